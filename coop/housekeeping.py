"""The file store's housekeeping for `coop tick`: stale temporary files, unreferenced blobs."""

import time

from coop import files
from coop.models import DeliveryFile, TaskAttachment

TEMPORARY_MAX_AGE_SECONDS = 24 * 3600


def referenced_hashes() -> set[str]:
    """Return the SHA-256 of every file a task attachment or a delivery refers to."""
    attached = TaskAttachment.select(TaskAttachment.sha256).distinct()
    delivered = DeliveryFile.select(DeliveryFile.sha256).distinct()
    return {row.sha256 for row in attached} | {row.sha256 for row in delivered}


def sweep_store(now: float | None = None) -> files.Sweep:
    """Remove temporary files older than a day; count blobs nothing refers to (kept)."""
    now = time.time() if now is None else now
    return files.sweep(referenced_hashes(), older_than=now - TEMPORARY_MAX_AGE_SECONDS)
