"""C2SP witnessing: cosignatures (tlog-cosignature), a witness server and its client."""

from .client import WitnessConflict, WitnessError, add_checkpoint, add_checkpoint_request
from .cosignature import (
    Cosignature,
    CosignatureSigner,
    CosignatureVerifier,
    cosigned_message,
    generate_witness_key,
    parse_cosignature_line,
    verify_quorum,
)

__all__ = [
    "Cosignature",
    "CosignatureSigner",
    "CosignatureVerifier",
    "WitnessConflict",
    "WitnessError",
    "add_checkpoint",
    "add_checkpoint_request",
    "cosigned_message",
    "generate_witness_key",
    "parse_cosignature_line",
    "verify_quorum",
]
