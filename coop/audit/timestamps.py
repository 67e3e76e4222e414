"""RFC 3161 time-stamps of published checkpoints, and the interval they give each entry.

COOP_TSA_URLS lists the time-stamping authorities, one per line or separated by commas, each
as ``<URL>`` or ``<URL> qualified`` (a qualified eIDAS TSA: receipts say so). Each TSA stamps
the latest published checkpoint when the log has grown since its last stamp and at least
COOP_TSA_INTERVAL seconds have passed: round trips are bounded by the interval, not by appends.
Like witnesses, TSAs are asked after the commit, at once and each with a short timeout; a TSA
that fails is logged and asked again after the interval (by the next publication or `coop tick`).
"""

import time
from bisect import bisect_right
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from flask import current_app

from coop.audit import ledger as app_ledger
from coop.db import write_transaction
from coop.models import CheckpointTimestamp
from ledger.interval import CheckedStamp, Interval, intervals_for, segments, stamp_json
from ledger.store import LedgerCheckpoint
from ledger.tsa import (
    InvalidTimestamp,
    TimestampError,
    checkpoint_imprint,
    request_timestamp,
    stamp_due,
    verify_token,
)

_EXTENSION = "coop_tsa_attempts"


@dataclass(frozen=True)
class TsaConfig:
    """One configured TSA: its URL, and whether it is a qualified (eIDAS) one."""

    url: str
    qualified: bool


def parse_tsas(text: str) -> list[TsaConfig]:
    """Parse COOP_TSA_URLS; raise ValueError (for the operator) naming the wrong entry."""
    tsas = []
    for item in text.replace("\n", ",").split(","):
        parts = item.split()
        if not parts:
            continue
        url, flags = parts[0], parts[1:]
        if not url.startswith(("http://", "https://")) or flags not in ([], ["qualified"]):
            raise ValueError(
                f"COOP_TSA_URLS entry {item.strip()!r}: expected '<http(s) URL> [qualified]'"
            )
        tsas.append(TsaConfig(url, bool(flags)))
    urls = [t.url for t in tsas]
    if len(set(urls)) != len(urls):
        raise ValueError("COOP_TSA_URLS names a TSA twice")
    return tsas


def configured(app=None) -> list[TsaConfig]:
    app = app or current_app
    return parse_tsas(app.config.get("TSA_URLS") or "")


def _due(tsa: TsaConfig, size: int, now_ns: int, interval_ns: int) -> bool:
    """Whether this TSA should stamp the checkpoint of size now."""
    attempts = current_app.extensions.setdefault(_EXTENSION, {})
    last_try = attempts.get(tsa.url)
    if last_try is not None and now_ns - last_try < interval_ns:
        return False  # asked (and perhaps failed) within the interval: wait for it to pass
    # The newest stamp any process stored; the TSA's name is only known from its tokens, so
    # the interval is kept across all TSAs' stamps (they are asked together anyway).
    newest = (
        CheckpointTimestamp.select(CheckpointTimestamp.size, CheckpointTimestamp.gen_ns)
        .order_by(CheckpointTimestamp.size.desc())
        .first()
    )
    if newest is None:
        return stamp_due(size, None, None, now_ns, interval_ns)
    # The TSA's own time of that stamp: UTC, and what the interval is about.
    return stamp_due(size, newest.size, newest.gen_ns, now_ns, interval_ns)


def _store(tsa: TsaConfig, checkpoint, token: bytes) -> None:
    verified = verify_token(token, checkpoint_imprint(checkpoint.note))
    with write_transaction():
        CheckpointTimestamp.insert(
            tsa=verified.tsa_name,
            size=checkpoint.size,
            token=token,
            gen_ns=verified.gen_ns,
            accuracy_ns=verified.accuracy_ns,
            qualified=tsa.qualified,
        ).on_conflict_ignore().execute()


def timestamp_latest() -> dict[str, str]:
    """Have the latest published checkpoint time-stamped by each TSA due; return failures.

    The TSAs are asked at once, each in its own thread (network only), so a publication waits
    for the slowest of them, at most COOP_TSA_TIMEOUT. Failures are logged, never raised.
    """
    tsas = configured()
    checkpoint = app_ledger.latest_checkpoint()
    failures: dict[str, str] = {}
    if not tsas or checkpoint is None or checkpoint.size == 0:
        return failures
    now_ns = time.time_ns()
    interval_ns = int(float(current_app.config.get("TSA_INTERVAL", 60)) * 1e9)
    due = [t for t in tsas if _due(t, checkpoint.size, now_ns, interval_ns)]
    if not due:
        return failures
    attempts = current_app.extensions.setdefault(_EXTENSION, {})
    for tsa in due:
        attempts[tsa.url] = now_ns
    timeout = float(current_app.config.get("TSA_TIMEOUT", 5.0))
    digest = checkpoint_imprint(checkpoint.note)
    with ThreadPoolExecutor(max_workers=len(due)) as pool:
        futures = [(t, pool.submit(request_timestamp, t.url, digest, timeout)) for t in due]
        for tsa, future in futures:
            try:
                _store(tsa, checkpoint, future.result())
            except (TimestampError, InvalidTimestamp) as exc:
                failures[tsa.url] = str(exc)
    for url, reason in failures.items():
        current_app.logger.warning("TSA %s: %s", url, reason)
    return failures


# --- reading: the stamps a document carries and the interval of an entry -------------------


def _rows_upto(size: int):
    return (
        CheckpointTimestamp.select()
        .where((CheckpointTimestamp.size <= size) & (CheckpointTimestamp.size > 0))
        .order_by(CheckpointTimestamp.size, CheckpointTimestamp.tsa)
    )


def _checked(row) -> CheckedStamp:
    # Stored only after verifying: the row's columns are the token's own time and name.
    return CheckedStamp(
        row.size, row.tsa, row.qualified, row.gen_ns - row.accuracy_ns, row.gen_ns + row.accuracy_ns
    )


def _stamps_json(rows, size: int) -> list[dict]:
    ledger = app_ledger.get_ledger()
    notes = dict(
        LedgerCheckpoint.select(LedgerCheckpoint.size, LedgerCheckpoint.note)
        .where(LedgerCheckpoint.size.in_(sorted({r.size for r in rows})))
        .tuples()
    )
    stamps = []
    for row in rows:
        note = notes.get(row.size)
        if note is None:
            continue  # a stamp whose checkpoint row is gone proves nothing to anyone
        proof = ledger.consistency_proof(row.size, size).hashes if row.size < size else ()
        stamps.append(stamp_json(note, bytes(row.token), row.qualified, proof))
    return stamps


def segments_upto(size: int) -> tuple[tuple[int, ...], tuple[tuple, ...]]:
    """Return ledger.interval.segments of every stamp up to size (for results rows)."""
    columns = (
        CheckpointTimestamp.size, CheckpointTimestamp.tsa, CheckpointTimestamp.qualified,
        CheckpointTimestamp.gen_ns, CheckpointTimestamp.accuracy_ns,
    )  # fmt: skip
    return segments([_checked(r) for r in _rows_upto(size).select(*columns)])


def stamps_upto(size: int) -> list[dict]:
    """Return every stamp of a checkpoint no larger than size, proven against that tree."""
    return _stamps_json(list(_rows_upto(size)), size)


def _bounding_rows(index: int, size: int) -> list:
    """Per TSA: its last stamp of a size <= index and its first of a size > index (<= size)."""
    rows = []
    for tsa in CheckpointTimestamp.select(CheckpointTimestamp.tsa).distinct().tuples():
        name = tsa[0]
        mine = CheckpointTimestamp.tsa == name
        lower = (
            CheckpointTimestamp.select()
            .where(mine & (CheckpointTimestamp.size <= index) & (CheckpointTimestamp.size > 0))
            .order_by(CheckpointTimestamp.size.desc())
            .first()
        )
        upper = (
            CheckpointTimestamp.select()
            .where(mine & (CheckpointTimestamp.size > index) & (CheckpointTimestamp.size <= size))
            .order_by(CheckpointTimestamp.size)
            .first()
        )
        rows += [r for r in (lower, upper) if r is not None]
    return rows


def stamps_bounding_all(indexes: Iterable[int], size: int) -> list[dict]:
    """Return the stamps bounding any of these entries (a results proof's), proven to size."""
    sizes: dict[str, list[int]] = {}
    for tsa, stamped in (
        _rows_upto(size).select(CheckpointTimestamp.tsa, CheckpointTimestamp.size).tuples()
    ):
        sizes.setdefault(tsa, []).append(stamped)
    chosen: set[tuple[str, int]] = set()
    for index in indexes:
        for tsa, ordered in sizes.items():
            at = bisect_right(ordered, index)  # ordered[at - 1] <= index < ordered[at]
            chosen.update((tsa, ordered[k]) for k in (at - 1, at) if 0 <= k < len(ordered))
    rows = [r for r in _rows_upto(size) if (r.tsa, r.size) in chosen]
    return _stamps_json(rows, size)


def bounding_stamps(index: int, size: int) -> list[dict]:
    """Return the stamps bounding entry index, proven against the tree of size (a bundle's)."""
    return _stamps_json(_bounding_rows(index, size), size)


def intervals(index: int, size: int) -> list[Interval]:
    """Return, per TSA, the interval its stamps up to size put around entry index."""
    return intervals_for(index, [_checked(r) for r in _bounding_rows(index, size)])
