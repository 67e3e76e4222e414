"""Auditable events, receipts and proofs."""
