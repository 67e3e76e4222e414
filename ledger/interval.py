"""Time-stamped checkpoints and the interval they put around each entry's time.

A *stamp* (docs/ledger-format.md §9) is a JSON object carried in bundles, exports and results
proofs: ``checkpoint`` (a checkpoint note signed by the log), ``token`` (base64 of the DER
RFC 3161 token whose imprint is the SHA-256 of that checkpoint's body), ``qualified`` (the log
says the TSA is a qualified eIDAS one) and ``consistency`` (base64 hashes proving the stamped
tree is a prefix of the tree the document is bound to).

The rule: entry i was appended after the TSA time of the last stamped checkpoint whose size
is <= i and before the TSA time of the first stamped checkpoint whose size is > i, each TSA
apart. The TSA time of a stamp is its genTime widened by the token's stated accuracy: at least
genTime - accuracy for the lower bound, at most genTime + accuracy for the upper.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .entry import rfc3339_ns
from .merkle import InvalidProof, verify_consistency
from .note import InvalidNote, Verifier, open_checkpoint
from .tsa import InvalidTimestamp, checkpoint_imprint, verify_token

__all__ = [
    "CheckedStamp",
    "Interval",
    "check_stamps",
    "interval_json",
    "intervals_for",
    "segments",
    "stamp_json",
    "tightest",
    "time_flag",
]


@dataclass(frozen=True)
class CheckedStamp:
    """A verified stamp: the tree of size existed between earliest_ns and latest_ns."""

    size: int
    tsa: str
    qualified: bool
    earliest_ns: int
    latest_ns: int


@dataclass(frozen=True)
class Interval:
    """What one TSA's stamps say about an entry's time (None: unbounded on that side)."""

    tsa: str
    qualified: bool
    after_ns: int | None
    before_ns: int | None

    def contains(self, unix_ns: int) -> bool:
        return (self.after_ns is None or self.after_ns <= unix_ns) and (
            self.before_ns is None or unix_ns <= self.before_ns
        )


def stamp_json(note: str, token: bytes, qualified: bool, consistency: Iterable[bytes]) -> dict:
    """Return a stamp object for a signed checkpoint note and its token."""
    return {
        "checkpoint": note,
        "token": base64.b64encode(token).decode("ascii"),
        "qualified": bool(qualified),
        "consistency": [base64.b64encode(h).decode("ascii") for h in consistency],
    }


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise InvalidProof(f"{what} must be a base64 string")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise InvalidProof(f"{what} is not base64") from None


def check_stamps(
    stamps: Any, verifier: Verifier, size: int, root: bytes, trusted: Sequence = ()
) -> list[CheckedStamp]:
    """Verify each stamp against the tree of size and root the document is bound to.

    Each stamp's checkpoint must be signed by the log's key, its token must verify and imprint
    that checkpoint's body, and its consistency proof must lead to root.

    :raises InvalidProof: a stamp is malformed or its tree is not a prefix of this one.
    :raises InvalidNote: a stamp's checkpoint is not signed by the log.
    :raises InvalidTimestamp: a token does not verify or imprints another checkpoint.
    """
    if not isinstance(stamps, list):
        raise InvalidProof("timestamps must be a list")
    checked = []
    for n, stamp in enumerate(stamps, start=1):
        if not isinstance(stamp, Mapping) or not isinstance(stamp.get("checkpoint"), str):
            raise InvalidProof(f"time-stamp {n} is not a stamp object")
        note = stamp["checkpoint"]
        try:
            checkpoint = open_checkpoint(note, verifier)
        except InvalidNote as exc:
            raise InvalidNote(f"time-stamp {n}: {exc}") from None
        if checkpoint.size > size:
            raise InvalidProof(f"time-stamp {n} is of a tree larger than this one")
        hashes = stamp.get("consistency")
        if not isinstance(hashes, list):
            raise InvalidProof(f"time-stamp {n} has no consistency proof")
        proof = [_b64(h, "consistency hash") for h in hashes]
        if checkpoint.size == 0:
            raise InvalidProof(f"time-stamp {n} is of the empty tree, which bounds nothing")
        try:
            verify_consistency(checkpoint.size, size, checkpoint.root, root, proof)
        except InvalidProof as exc:
            raise InvalidProof(f"time-stamp {n}: {exc}") from None
        try:
            token = verify_token(
                _b64(stamp.get("token"), "token"), checkpoint_imprint(note), trusted
            )
        except InvalidTimestamp as exc:
            raise InvalidTimestamp(f"time-stamp {n} (size {checkpoint.size}): {exc}") from None
        qualified = stamp.get("qualified", False)
        if not isinstance(qualified, bool):
            raise InvalidProof(f"time-stamp {n}: qualified must be true or false")
        checked.append(
            CheckedStamp(
                checkpoint.size, token.tsa_name, qualified, token.earliest_ns, token.latest_ns
            )
        )
    return checked


def intervals_for(index: int, stamps: Iterable[CheckedStamp]) -> list[Interval]:
    """Return, per TSA (by name), the interval its stamps put around entry index."""
    by_tsa: dict[str, list[CheckedStamp]] = {}
    for stamp in stamps:
        by_tsa.setdefault(stamp.tsa, []).append(stamp)
    intervals = []
    for tsa in sorted(by_tsa):
        ordered = sorted(by_tsa[tsa], key=lambda s: s.size)
        after = [s for s in ordered if s.size <= index]
        before = [s for s in ordered if s.size > index]
        lower = after[-1] if after else None
        upper = before[0] if before else None
        intervals.append(
            Interval(
                tsa,
                any(s.qualified for s in (lower, upper) if s is not None),
                None if lower is None else lower.earliest_ns,
                None if upper is None else upper.latest_ns,
            )
        )
    return intervals


def tightest(intervals: Iterable[Interval]) -> tuple[int | None, int | None]:
    """Return the narrowest (after_ns, before_ns) the intervals of several TSAs give together."""
    afters = [i.after_ns for i in intervals if i.after_ns is not None]
    befores = [i.before_ns for i in intervals if i.before_ns is not None]
    return (max(afters) if afters else None, min(befores) if befores else None)


def segments(stamps: Sequence[CheckedStamp]) -> tuple[tuple[int, ...], tuple[tuple, ...]]:
    """Return (cuts, bounds): entry i's tightest bounds are bounds[bisect_right(cuts, i)].

    Between two stamped sizes every entry has the same stamps around it, so the tightest
    (after_ns, before_ns) over all TSAs is one value per segment: a row costs one bisect.
    """
    cuts = tuple(sorted({s.size for s in stamps}))
    # Entries in segment k have indexes in [cuts[k - 1], cuts[k]); the first starts at 0.
    starts = (0, *cuts)
    return cuts, tuple(tightest(intervals_for(start, stamps)) for start in starts)


def interval_json(interval: Interval) -> dict:
    """Return an interval as the bundle's ``interval`` item (RFC 3339 UTC, null: unbounded)."""
    return {
        "tsa": interval.tsa,
        "qualified": interval.qualified,
        "after": None if interval.after_ns is None else rfc3339_ns(interval.after_ns),
        "before": None if interval.before_ns is None else rfc3339_ns(interval.before_ns),
    }


def time_flag(index: int, unix_ns: int, interval: Interval) -> str | None:
    """Return why entry index's NTP time lies outside interval, or None when it lies inside."""
    if interval.after_ns is not None and unix_ns < interval.after_ns:
        return (
            f"entry {index}: NTP time {rfc3339_ns(unix_ns)} is before {interval.tsa}'s lower "
            f"bound {rfc3339_ns(interval.after_ns)}"
        )
    if interval.before_ns is not None and unix_ns > interval.before_ns:
        return (
            f"entry {index}: NTP time {rfc3339_ns(unix_ns)} is after {interval.tsa}'s upper "
            f"bound {rfc3339_ns(interval.before_ns)}"
        )
    return None
