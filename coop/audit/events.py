"""The one place where operations record auditable events, inside their own transaction.

Every operation that changes something a client, a member or the board may later need to
prove (a task awarded, a delivery submitted or reviewed, a task completed, a dispute resolved,
a member admitted, parameters changed) calls `record` before its transaction commits, so the
change and its record are both kept or both lost.
"""

import json

from coop.models import Event


def record(kind: str, **data) -> Event:
    """Record an auditable event of this kind with opaque ids, amounts and hashes."""
    return Event.create(kind=kind, data=json.dumps(data, sort_keys=True, separators=(",", ":")))
