"""Quality control the way a cooperative does it: gold items, contests, accuracy shown to all."""
