"""Fixtures for the ledger's tests only: vector paths and small in-memory trees."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
VECTORS = REPO_ROOT.parent / "shared" / "vectors"


@pytest.fixture(scope="session")
def vectors() -> Path:
    """Return the shared vectors folder; fail loudly when it is missing, never skip."""
    if not (VECTORS / "README.md").is_file():
        pytest.fail(f"test vectors missing: expected {VECTORS} beside the repository")
    return VECTORS
