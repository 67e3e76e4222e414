"""Audit queries: checkpoint history, entries that carry a file's hash, parsed proof requests."""

import base64
import hashlib
from dataclasses import dataclass

from flask_babel import gettext as _

from coop.audit import ledger as app_ledger
from coop.audit.access import visible_event
from coop.errors import NotFound
from coop.models import DeliveryFile, Event, User
from ledger.store import LedgerCheckpoint

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class PublishedCheckpoint:
    size: int
    root_b64: str
    note: str
    consistency_from_previous: tuple[str, ...] | None  # base64 hashes; None for the first


@dataclass(frozen=True)
class FileMatch:
    """A ledger entry that carries a file's SHA-256, as the viewer may see it."""

    event: Event
    unix_ns: int
    task_id: int | None


def checked_range(size: int, *, upto: int) -> int:
    """Return size if the ledger has that many entries, else raise NotFound."""
    if size > upto:
        raise NotFound(_("The ledger has only %(size)s entries.", size=upto))
    return size


def checkpoint_history(limit: int = 20) -> list[PublishedCheckpoint]:
    """Return the latest published checkpoints, newest first, each proved against the previous."""
    rows = list(
        LedgerCheckpoint.select().order_by(LedgerCheckpoint.size.desc()).limit(limit + 1)
    )
    history = []
    ledger = app_ledger.get_ledger()
    for newer, older in zip(rows, rows[1:] + [None], strict=True):
        if len(history) == limit:
            break
        proof = None
        if older is not None and older.size > 0:
            proof = ledger.consistency_proof(older.size, newer.size).to_json()["hashes"]
        history.append(
            PublishedCheckpoint(
                newer.size,
                base64.b64encode(bytes(newer.root)).decode(),
                newer.note,
                tuple(proof) if proof is not None else None,
            )
        )
    return history


def hash_upload(stream) -> str:
    """Return the SHA-256 of an uploaded stream without keeping the file."""
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def entries_for_hash(actor: User, sha256: str) -> list[FileMatch]:
    """Return the ledger events carrying sha256 that actor may see, oldest first."""
    files = DeliveryFile.select(DeliveryFile.delivery).where(DeliveryFile.sha256 == sha256)
    subjects = sorted({f"delivery:{f.delivery_id}" for f in files})
    if not subjects:
        return []
    events = (
        Event.select()
        .where(Event.subject.in_(subjects) & (Event.kind == "delivery.submitted"))
        .order_by(Event.unix_ns)
    )
    matches = []
    for event in events:
        if sha256 in event.data and visible_event(actor, event):
            matches.append(FileMatch(event, event.unix_ns, event.payload.get("task")))
    return matches
