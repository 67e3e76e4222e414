"""Coop's audit ledger (filled by the ledger issue)."""
