"""Coop's audit ledger: an RFC 9162 Merkle log with NTP time and signed checkpoints.

A standalone package: it imports neither flask nor coop. The storage (peewee) and clock
(ntplib) parts load on first use, so the offline verifier (``python -m ledger``) needs only
the standard library, ``cryptography`` and ``asn1crypto`` (for RFC 3161 time-stamp tokens).
"""

from __future__ import annotations

import importlib
from typing import Any

from .entry import Entry, InvalidEntry, TimeBlock, TimeSource, decode_entry, encode_entry
from .merkle import InvalidProof, verify_consistency, verify_inclusion
from .note import (
    Checkpoint,
    InvalidNote,
    Signer,
    UnverifiedNote,
    Verifier,
    generate_signer_key,
    load_signer_key,
    open_checkpoint,
    write_signer_key,
)
from .verify import LedgerTampered, verify_bundle, verify_export

__all__ = [
    "Checkpoint",
    "Clock",
    "ConsistencyProof",
    "Entry",
    "InclusionProof",
    "InvalidEntry",
    "InvalidNote",
    "InvalidProof",
    "Ledger",
    "LedgerTampered",
    "ManualClock",
    "Signer",
    "TABLES",
    "TimeBlock",
    "TimeSource",
    "UnverifiedNote",
    "Verifier",
    "bind",
    "create_tables",
    "database_proxy",
    "decode_entry",
    "encode_entry",
    "generate_signer_key",
    "load_signer_key",
    "open_checkpoint",
    "verify_bundle",
    "verify_consistency",
    "verify_export",
    "verify_inclusion",
    "write_signer_key",
]

_LAZY = {
    "Clock": "clock",
    "ConsistencyProof": "store",
    "InclusionProof": "store",
    "Ledger": "store",
    "ManualClock": "clock",
    "TABLES": "store",
    "bind": "store",
    "create_tables": "store",
    "database_proxy": "store",
}


def __getattr__(name: str) -> Any:
    """Import the peewee and ntplib parts only when they are asked for."""
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
