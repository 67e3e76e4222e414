"""`coop tick`'s housekeeping: overdue work, expired leases, votes, the file store, a checkpoint.

Run by `coop tick` (cron) and every few minutes by `coop worker`; each step is idempotent.
"""

import time
from dataclasses import dataclass
from datetime import datetime

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


@dataclass(frozen=True)
class TickReport:
    """What one round of housekeeping did."""

    returned: int
    accepted: int
    expired: int
    answers: int
    votes_opened: int
    votes_counted: int
    swept: files.Sweep
    checkpoint_size: int
    unwitnessed: dict  # witness name -> why it has not cosigned the latest checkpoint
    unstamped: dict  # TSA URL -> why it has not time-stamped it (when a stamp was due)


def tick(now: datetime) -> TickReport:
    """Return overdue tasks and expired leases, accept work left unreviewed past its window,
    announce votes that opened and count those that closed, tidy the file store and publish a
    checkpoint."""
    from coop.audit.ledger import publish_checkpoint, publish_outside
    from coop.delivery.operations import auto_accept_overdue
    from coop.governance.operations import count_due, open_due
    from coop.market.operations import return_overdue_tasks
    from coop.projects.operations import auto_accept_answers, expire_leases

    returned = return_overdue_tasks(now)
    accepted = auto_accept_overdue(now)
    expired = expire_leases(now)
    answers = auto_accept_answers(now)
    votes_opened = open_due(now)
    votes_counted = count_due(now)
    swept = sweep_store()
    # Covers entries whose process died between its commit and its publication.
    checkpoint = publish_checkpoint()
    # Outside any transaction: tiles are files, and witnesses are across the network.
    outside = publish_outside(checkpoint)
    return TickReport(
        returned, accepted, expired, answers, votes_opened, votes_counted, swept,
        checkpoint.size, outside.witnesses, outside.tsas,
    )
