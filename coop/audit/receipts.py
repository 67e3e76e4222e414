"""Receipts: what the ledger says about a delivery, checked against the latest checkpoint.

Only published checkpoints are used: these are reads, and a read never signs (publication
happens on the write side, right after each change commits).
"""

import base64
from dataclasses import dataclass

from flask_babel import gettext as _

from coop.audit import ledger as app_ledger
from coop.audit import timestamps
from coop.audit.witnesses import cosigned_note, cosigners
from coop.errors import Unavailable
from coop.models import Delivery, Event
from ledger.entry import decode_entry
from ledger.interval import Interval, interval_json
from ledger.merkle import InvalidProof, verify_inclusion


@dataclass(frozen=True)
class Receipt:
    """A delivery's ledger entry: index, time, uncertainty, sources, and whether it verifies."""

    kind: str
    index: int
    unix_ns: int
    uncertainty_ns: int
    synced: bool
    servers: tuple[str, ...]
    checkpoint_size: int
    included: bool
    problem: str = ""
    single_source: bool = False  # synced, but on one server nothing cross-checked
    # Per TSA, the interval its time-stamps put around the entry (docs/ledger-format.md §9).
    intervals: tuple[Interval, ...] = ()
    # The hashes an auditor checks: the entry's RFC 9162 leaf hash and the one before it (hex),
    # the files' SHA-256 as the entry records them, and the checkpoint's root (base64).
    leaf_hash: str = ""
    prev_hash: str = ""
    file_hashes: tuple[str, ...] = ()
    checkpoint_root: str = ""
    witnesses: tuple[str, ...] = ()  # the witnesses who cosigned that checkpoint, by name

    @property
    def covered(self) -> bool:
        """Whether a published checkpoint covers the entry yet (a proof exists for it)."""
        return self.index < self.checkpoint_size

    @property
    def uncertainty_ms(self) -> float:
        return self.uncertainty_ns / 1_000_000

    @property
    def uncertainty_seconds(self) -> int:
        """The uncertainty in whole seconds, rounded up (what a person reads, never less)."""
        return max(1, -(-self.uncertainty_ns // 1_000_000_000))

    @property
    def outside(self) -> tuple[Interval, ...]:
        """The intervals the NTP time does not lie in (a clock that was wrong, or worse)."""
        return tuple(i for i in self.intervals if not i.contains(self.unix_ns))


def delivery_event(delivery: Delivery) -> Event | None:
    """Return the delivery.submitted event of a delivery."""
    return (
        Event.select()
        .where((Event.subject == f"delivery:{delivery.id}") & (Event.kind == "delivery.submitted"))
        .first()
    )


def receipt_for(event: Event, checkpoint: app_ledger.CheckpointInfo | None) -> Receipt:
    """Read the entry behind event and verify its inclusion in checkpoint (None: none yet)."""
    ledger = app_ledger.get_ledger()
    raw = ledger.entry_bytes(event.ledger_index)
    entry = decode_entry(raw)
    included, problem = False, ""
    if checkpoint is not None and event.ledger_index < checkpoint.size:
        proof = ledger.inclusion_proof(event.ledger_index, checkpoint.size)
        try:
            root = base64.b64decode(checkpoint.root_b64)
            verify_inclusion(proof.index, proof.size, entry.leaf_hash, proof.hashes, root)
            included = True
        except InvalidProof as error:
            problem = str(error)
    else:
        problem = _("not yet covered by a checkpoint")
    return Receipt(
        kind=entry.kind,
        index=entry.index,
        unix_ns=entry.time.unix_ns,
        uncertainty_ns=entry.time.uncertainty_ns,
        synced=entry.time.synced,
        servers=tuple(source.server for source in entry.time.sources),
        checkpoint_size=0 if checkpoint is None else checkpoint.size,
        included=included,
        problem=problem,
        single_source=entry.time.single_source,
        intervals=tuple(timestamps.intervals(entry.index, checkpoint.size)) if included else (),
        leaf_hash=entry.leaf_hash.hex(),
        prev_hash=entry.prev.hex(),
        file_hashes=tuple(f["sha256"] for f in entry.data.get("files", ()) if "sha256" in f),
        checkpoint_root="" if checkpoint is None else checkpoint.root_b64,
        witnesses=() if checkpoint is None else cosigners(checkpoint.size),
    )


def recorded_ns(index: int) -> int:
    """Return the time the ledger gave entry index (ns since the epoch)."""
    return decode_entry(app_ledger.get_ledger().entry_bytes(index)).time.unix_ns


def delivery_receipts(deliveries: list[Delivery]) -> dict[int, Receipt]:
    """Return {delivery id: receipt} for deliveries with an entry, under the latest checkpoint."""
    if not deliveries:
        return {}
    checkpoint = app_ledger.latest_checkpoint()
    receipts = {}
    for delivery in deliveries:
        event = delivery_event(delivery)
        if event is not None and event.ledger_index is not None:
            receipts[delivery.id] = receipt_for(event, checkpoint)
    return receipts


def bundle_for(event: Event) -> dict:
    """Return the receipt bundle (docs/ledger-format.md) of an event's entry.

    :raises Unavailable: no published checkpoint covers the entry yet.
    """
    ledger = app_ledger.get_ledger()
    checkpoint = app_ledger.latest_checkpoint()
    if checkpoint is None or event.ledger_index >= checkpoint.size:
        raise Unavailable(
            _("This entry is not yet covered by a published checkpoint; try again in a minute.")
        )
    bundle = ledger.bundle(
        event.ledger_index,
        checkpoint=cosigned_note(checkpoint),
        verifier=app_ledger.signer().verifier,
    )
    stamps = timestamps.bounding_stamps(event.ledger_index, checkpoint.size)
    if stamps:
        bundle["timestamps"] = stamps
        bundle["interval"] = [
            interval_json(i) for i in timestamps.intervals(event.ledger_index, checkpoint.size)
        ]
    return bundle
