"""Tasks, claims, bids and awards."""
