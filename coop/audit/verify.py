"""Verify the live ledger and that the app's records match what the ledger says."""

import json

from coop.audit.ledger import get_ledger, signer
from coop.models import Event
from ledger.entry import decode_entry
from ledger.verify import LedgerTampered


def verify_live() -> int:
    """Check the ledger's own integrity, then every Event row against its entry; return size.

    :raises LedgerTampered: naming the first bad index and why.
    """
    ledger = get_ledger()
    size = ledger.verify(signer().verifier)
    for event in Event.select().order_by(Event.ledger_index):
        if event.ledger_index is None or not 0 <= event.ledger_index < size:
            raise LedgerTampered(event.ledger_index or -1, f"event {event.id} has no entry")
        entry = decode_entry(ledger.entry_bytes(event.ledger_index))
        recorded = dict(json.loads(event.data), subject=event.subject)
        if entry.kind != event.kind or dict(entry.data) != recorded:
            raise LedgerTampered(
                event.ledger_index, f"the app's record of event {event.id} differs from the entry"
            )
        if entry.time.unix_ns != event.unix_ns:
            raise LedgerTampered(event.ledger_index, f"event {event.id} has another time")
    return size
