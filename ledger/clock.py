"""NTP time source (filled in below)."""

UNSYNCED_UNCERTAINTY_NS = 10_000_000_000
