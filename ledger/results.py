"""Project results at dataset scale: rows of answers and one proof file binding them all.

A client downloads its project's results (CSV or JSON Lines, one row per answer) and a proof
file holding the signed checkpoint, each row's ledger entry and a multi-leaf Merkle proof.
``verify_results`` checks every row against its entry and the entries against the
checkpoint, offline, and names the first row that does not verify. The last four fields of a
row (the item's gold flag and its aggregated answer, confidence and method) are computed when
the file is made, not logged: the proof does not cover them, and verifying checks only their
form (files made before they existed, without them, still verify). Standard library,
``cryptography`` and ``asn1crypto`` only, like ``ledger.verify``; ``make_proof`` alone reads a
``Ledger``. The formats are in docs/ledger-format.md §8.
"""

from __future__ import annotations

import binascii
import contextlib
import csv
import enum
import hashlib
import io
import itertools
import json
import os
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from .entry import MAX_INT, Entry, InvalidEntry, decode_entry, rfc3339_ns
from .interval import check_stamps, segments
from .merkle import (
    _LEAF,
    InvalidProof,
    compact_push,
    compact_root,
    covering_subtrees,
    stored_hash_index,
)
from .merkle import subtree_hash as _subtree_hash
from .note import Checkpoint, InvalidNote, Verifier, open_checkpoint, parse_checkpoint
from .witness.cosignature import CosignatureVerifier, check_witnesses

if TYPE_CHECKING:
    from .store import Ledger

__all__ = [
    "ANSWER_KIND",
    "AGGREGATE_FIELDS",
    "FIELDS",
    "PROVEN_FIELDS",
    "PROOF_FORMAT",
    "AnswerStatus",
    "InvalidAnswer",
    "ResultRow",
    "ResultsFormat",
    "ResultsTampered",
    "VerifiedResults",
    "answer_bytes",
    "answer_sha256",
    "bound_text",
    "item_sha256",
    "iter_result_cells",
    "iter_results",
    "make_proof",
    "read_results",
    "results_format",
    "row_for_entry",
    "uncertainty_ms",
    "verify_results",
    "write_proof",
    "write_results",
]

ANSWER_KIND = "answer.submitted"
PROOF_FORMAT = "coop-results-proof/1"
# The answer's fields, each checked against its ledger entry (but status: reviews come later),
# and the interval around it, checked against the proof's time-stamps.
PROVEN_FIELDS = (
    "external_id",
    "answer",
    "member",
    "seconds",
    "status",
    "ledger_index",
    "timestamp",
    "uncertainty_ms",
    "answer_sha256",
    "bounded_after",
    "bounded_before",
)
# The item's, the same on each of its rows: not in the ledger, so outside the proof. Files
# made before these existed end at bounded_before, and still verify.
AGGREGATE_FIELDS = ("gold", "aggregate", "confidence", "method")
FIELDS = PROVEN_FIELDS + AGGREGATE_FIELDS
# An RFC 3339 time as entries write it: fixed width, so its text sorts as its time.
_RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z")
# Rows per batch of ledger reads when making a proof, and per worker when verifying one.
_PROOF_BATCH = 2_000
_SPAN = 1 << 15
# Below this many rows one process is faster than starting workers.
_PARALLEL_MIN = 40_000


class AnswerStatus(enum.StrEnum):
    """Where an answer stands in review (not part of the proof: reviews are later entries)."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ResultsFormat(enum.StrEnum):
    """The two shapes of a results file."""

    CSV = "csv"
    JSONL = "jsonl"


class InvalidAnswer(ValueError):
    """An answer is not an object of short names to strings, booleans, integers or string lists."""


class ResultsTampered(Exception):
    """A results file or its proof does not match the signed ledger; names the first bad row.

    ``row`` is the 1-based row number (None when the proof as a whole is at fault), ``line``
    its 1-based line in the results file, ``external_id`` the row's item when it was read.
    """

    def __init__(self, row: int | None, line: int | None, external_id: str | None, reason: str):
        where = "" if row is None else f"row {row}"
        if line is not None:
            where += f" (line {line}"
            where += ")" if external_id is None else f", external_id {external_id!r})"
        super().__init__(f"{where}: {reason}" if where else reason)
        self.row, self.line, self.external_id, self.reason = row, line, external_id, reason


# --- answers and rows ---------------------------------------------------------------------

_ANSWER_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def answer_bytes(answer: Mapping[str, Any]) -> bytes:
    """Return an answer's canonical bytes: UTF-8 JSON, sorted keys, no spaces, no floats.

    :raises InvalidAnswer: a value is not a string, boolean, integer or list of strings.
    """
    if not isinstance(answer, Mapping):
        raise InvalidAnswer("an answer is a JSON object")
    for name, value in answer.items():
        if not isinstance(name, str):
            raise InvalidAnswer("answer field names are strings")
        kind = type(value)
        if kind is int and not -MAX_INT <= value <= MAX_INT:
            raise InvalidAnswer(f"answer field {name!r}: integer out of the exact JSON range")
        if kind is list and all(type(v) is str for v in value):
            continue
        if kind not in (str, bool, int, list):
            raise InvalidAnswer(f"answer field {name!r}: {kind.__name__} is not allowed")
        if kind is list:
            raise InvalidAnswer(f"answer field {name!r}: lists hold strings only")
    try:
        return _ANSWER_ENCODER.encode(dict(answer)).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidAnswer("answer text is not valid Unicode") from None


def answer_sha256(answer: Mapping[str, Any]) -> str:
    """Return the SHA-256 hex of an answer's canonical bytes (the entry's answer_sha256)."""
    return hashlib.sha256(answer_bytes(answer)).hexdigest()


def item_sha256(external_id: str) -> str:
    """Return the SHA-256 hex of an item's external_id (the entry's item)."""
    return hashlib.sha256(external_id.encode("utf-8")).hexdigest()


def uncertainty_ms(uncertainty_ns: int) -> int:
    """Return a time uncertainty in whole milliseconds, rounded up so it is never understated."""
    return -(-uncertainty_ns // 1_000_000)


@dataclass(frozen=True)
class ResultRow:
    """One answer in a results file, in the field order of FIELDS.

    The last four describe the answer's item and are not proven: `gold` (a gold item),
    `aggregate` (the answer its answers add up to, None when none counts), `confidence`
    (0 to 1, four decimals) and `method` (how they were added up; "" for not at all).
    """

    external_id: str
    answer: Mapping[str, Any]
    member: str
    seconds: int
    status: AnswerStatus
    ledger_index: int
    timestamp: str
    uncertainty_ms: int
    answer_sha256: str
    # The interval the proof's time-stamps put around the entry (RFC 3339; "": unbounded).
    bounded_after: str = ""
    bounded_before: str = ""
    gold: bool = False
    aggregate: Mapping[str, Any] | None = None
    confidence: float = 0.0
    method: str = ""


def bound_text(unix_ns: int | None) -> str:
    """Return a bound as a results row writes it: RFC 3339 with nanoseconds, "" for none."""
    return "" if unix_ns is None else rfc3339_ns(unix_ns)


def row_for_entry(
    entry: Entry,
    external_id: str,
    answer: Mapping[str, Any],
    status: AnswerStatus | str,
    bounds: tuple[int | None, int | None] = (None, None),
) -> ResultRow:
    """Return the results row of an answer from its ledger entry (time, member, seconds).

    bounds are the tightest (after_ns, before_ns) the time-stamps give (ledger.interval).

    :raises ValueError: the entry is not this answer's (kind, item or answer hash differ).
    """
    data = entry.data
    digest = answer_sha256(answer)
    if entry.kind != ANSWER_KIND or data.get("item") != item_sha256(external_id):
        raise ValueError(f"entry {entry.index} is not the answer to item {external_id!r}")
    if data.get("answer_sha256") != digest:
        raise ValueError(f"entry {entry.index} records another answer")
    return ResultRow(
        external_id,
        dict(answer),
        data["member"],
        data["seconds"],
        AnswerStatus(status),
        entry.index,
        entry.time.rfc3339,
        uncertainty_ms(entry.time.uncertainty_ns),
        digest,
        bound_text(bounds[0]),
        bound_text(bounds[1]),
    )


def iter_results(rows: Iterable[ResultRow], fmt: ResultsFormat | str) -> Iterator[bytes]:
    """Yield a results file in blocks of bytes, streaming the rows (for a download)."""
    return iter_result_cells(
        (
            (row.external_id, answer_bytes(row.answer).decode("utf-8"), row.member, row.seconds,
             str(row.status), row.ledger_index, row.timestamp, row.uncertainty_ms,
             row.answer_sha256, row.bounded_after, row.bounded_before, row.gold,
             "" if row.aggregate is None else answer_bytes(row.aggregate).decode("utf-8"),
             row.confidence, row.method)  # fmt: skip
            for row in rows
        ),
        fmt,
    )


_JSONL_LINE = (
    '{"external_id":%s,"answer":%s,"member":%s,"seconds":%d,"status":%s,"ledger_index":%d,'
    '"timestamp":%s,"uncertainty_ms":%d,"answer_sha256":%s,"bounded_after":%s,'
    '"bounded_before":%s,"gold":%s,"aggregate":%s,"confidence":%r,"method":%s}\n'
)


def iter_result_cells(rows: Iterable[Sequence], fmt: ResultsFormat | str) -> Iterator[bytes]:
    """Yield a results file in blocks of bytes from rows of cells in FIELDS order.

    The answer and aggregate cells are canonical JSON text (``answer_bytes``; "" for no
    aggregate), as the app stores answers: the CSV holds them as they are and a JSON Lines row
    embeds them as objects, so a row costs no JSON decoding or encoding (an export is 300,000
    rows and more). gold is a bool, confidence a float rounded to four decimals, the bounds
    "" when unbounded (JSON null).
    """
    fmt = ResultsFormat(fmt)
    if fmt is ResultsFormat.CSV:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(FIELDS)
        for batch in _batches(rows, 1000):
            writer.writerows([
                (*row[:11], "true" if row[11] else "false", row[12], f"{row[13]:.4f}", row[14])
                for row in batch
            ])
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
        if buf.tell():  # no rows: the header alone
            yield buf.getvalue().encode("utf-8")
        return
    # Strings as the JSON encoder writes them with ensure_ascii=False: the same bytes as
    # encoding the whole row as an object.
    text = json.encoder.encode_basestring
    line = _JSONL_LINE
    for batch in _batches(rows, 1000):
        yield "".join([
            line % (text(ext), answer, text(member), seconds, text(status), index, text(stamp),
                    unc, text(sha), text(after) if after else "null",
                    text(before) if before else "null", "true" if gold else "false",
                    aggregate or "null", confidence, text(method))  # fmt: skip
            for (ext, answer, member, seconds, status, index, stamp, unc, sha, after, before,
                 gold, aggregate, confidence, method) in batch
        ]).encode("utf-8")


def _batches(rows: Iterable, n: int) -> Iterator[list]:
    rows = iter(rows)
    while batch := list(itertools.islice(rows, n)):
        yield batch


def write_results(rows: Iterable[ResultRow], fmt: ResultsFormat | str, out: BinaryIO) -> int:
    """Write a results file to a binary stream; return the number of bytes written."""
    written = 0
    for block in iter_results(rows, fmt):
        out.write(block)
        written += len(block)
    return written


def results_format(path: str | os.PathLike) -> ResultsFormat:
    """Return a results file's format: by its extension, else by its first byte."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return ResultsFormat.CSV
    if suffix in (".jsonl", ".ndjson"):
        return ResultsFormat.JSONL
    with open(path, "rb") as f:
        head = f.read(1)
    return ResultsFormat.JSONL if head == b"{" else ResultsFormat.CSV


class _RowError(Exception):
    """A row or its proof line is wrong; the caller knows which row it is."""

    external_id: str | None = None


def _int_cell(text: str, name: str) -> int:
    if not (text.isascii() and text.isdigit()) or (text[0] == "0" and len(text) > 1):
        raise _RowError(f"{name} {text!r} is not a whole number")
    return int(text)


_METHOD = re.compile(r"[a-z_]{0,40}")
_CONFIDENCE = re.compile(r"(0\.[0-9]{4}|1\.0000)")


def _csv_item(cells: list[str]) -> tuple:
    """Return (gold, aggregate, confidence, method) from a row's last four cells, unproven."""
    gold, text, confidence, method = cells
    if gold not in ("true", "false"):
        raise _RowError(f"gold {gold!r} is not true or false")
    aggregate = None
    if text:
        try:
            aggregate = json.loads(text)
        except (ValueError, RecursionError):
            aggregate = None
        if type(aggregate) is not dict:
            raise _RowError("aggregate is neither empty nor a JSON object")
    if not _CONFIDENCE.fullmatch(confidence):
        raise _RowError(f"confidence {confidence!r} is not a number from 0 to 1 (4 decimals)")
    if not _METHOD.fullmatch(method):
        raise _RowError(f"method {method!r} is not a method's name")
    return gold == "true", aggregate, float(confidence), method


def _csv_row(cells: list[str]) -> tuple:
    """Return (external_id, answer hash, member, seconds, index, time, ms, claimed, answer,
    status, bounded_after, bounded_before, item fields or None)."""
    item = None
    if len(cells) == len(FIELDS):
        item = _csv_item(cells[len(PROVEN_FIELDS):])
        cells = cells[: len(PROVEN_FIELDS)]
    elif len(cells) != len(PROVEN_FIELDS):
        raise _RowError(
            f"the row has {len(cells)} fields, not {len(FIELDS)} (or {len(PROVEN_FIELDS)})"
        )
    external_id, text, member, seconds, status, index, stamp, ms, claimed, after, before = cells
    # The answer text as written hashes to the claimed digest only if it is those exact
    # canonical bytes; otherwise (a spreadsheet re-spaced it) canonicalise and hash again.
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    answer = None
    if digest != claimed:
        try:
            answer = json.loads(text)
            digest = hashlib.sha256(answer_bytes(answer)).hexdigest()
        except (ValueError, RecursionError) as exc:
            raise _RowError(f"answer is not a valid answer object: {exc}") from None
    if status not in _STATUSES:
        raise _RowError(f"status {status!r} is not one of {', '.join(_STATUSES)}")
    return (
        external_id,
        digest,
        member,
        _int_cell(seconds, "seconds"),
        _int_cell(index, "ledger_index"),
        stamp,
        _int_cell(ms, "uncertainty_ms"),
        claimed,
        text if answer is None else answer,
        status,
        _bound_cell(after, "bounded_after"),
        _bound_cell(before, "bounded_before"),
        item,
    )


def _bound_cell(value: Any, name: str) -> str:
    if value is None or value == "":
        return ""
    if type(value) is not str or not _RFC3339.fullmatch(value):
        raise _RowError(f"{name} {value!r} is not an RFC 3339 UTC time with nanoseconds")
    return value


_STATUSES = tuple(s.value for s in AnswerStatus)
_JSON_FIELDS = set(FIELDS)
_JSON_PROVEN = set(PROVEN_FIELDS)


def _jsonl_row(line: bytes) -> tuple:
    """Return the same tuple as _csv_row from one JSON Lines row."""
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise _RowError(f"the row is not JSON: {exc}") from None
    if type(obj) is dict and type(obj.get("external_id")) is str:
        try:
            return _jsonl_fields(obj)
        except _RowError as exc:
            exc.external_id = obj["external_id"]
            raise
    return _jsonl_fields(obj)


def _jsonl_item(obj: dict) -> tuple:
    """Return (gold, aggregate, confidence, method) of a JSON Lines row, unproven."""
    gold, aggregate, confidence, method = (obj[k] for k in AGGREGATE_FIELDS)
    if type(gold) is not bool:
        raise _RowError("gold is true or false")
    if aggregate is not None and type(aggregate) is not dict:
        raise _RowError("aggregate is null or a JSON object")
    if type(confidence) not in (int, float) or not 0 <= confidence <= 1:
        raise _RowError("confidence is a number from 0 to 1")
    if type(method) is not str or not _METHOD.fullmatch(method):
        raise _RowError("method is a method's name")
    return gold, aggregate, float(confidence), method


def _jsonl_fields(obj: Any) -> tuple:
    if type(obj) is not dict or obj.keys() not in (_JSON_FIELDS, _JSON_PROVEN):
        raise _RowError(f"must be an object with exactly the fields {', '.join(FIELDS)}")
    external_id, member, stamp, claimed, status = (
        obj["external_id"],
        obj["member"],
        obj["timestamp"],
        obj["answer_sha256"],
        obj["status"],
    )
    if not all(type(v) is str for v in (external_id, member, stamp, claimed, status)):
        raise _RowError("external_id, member, timestamp, status and answer_sha256 are strings")
    seconds, index, ms = obj["seconds"], obj["ledger_index"], obj["uncertainty_ms"]
    if not all(type(v) is int and v >= 0 for v in (seconds, index, ms)):
        raise _RowError("seconds, ledger_index and uncertainty_ms are whole numbers")
    if status not in _STATUSES:
        raise _RowError(f"status {status!r} is not one of {', '.join(_STATUSES)}")
    if type(obj["answer"]) is not dict:
        raise _RowError("the answer is not a JSON object")
    try:
        # Encoded without answer_bytes' checks: what is not an answer cannot hash to the
        # signed digest anyway (read_results checks it to hand out only valid answers).
        digest = hashlib.sha256(_ANSWER_ENCODER.encode(obj["answer"]).encode()).hexdigest()
    except ValueError as exc:
        raise _RowError(f"the answer cannot be encoded: {exc}") from None
    after = _bound_cell(obj["bounded_after"], "bounded_after")
    before = _bound_cell(obj["bounded_before"], "bounded_before")
    item = _jsonl_item(obj) if len(obj) == len(FIELDS) else None
    return (
        external_id, digest, member, seconds, index, stamp, ms, claimed, obj["answer"], status,
        after, before, item,
    )  # fmt: skip


def _csv_rows(f: BinaryIO, first_line: int) -> Iterator[tuple[int, Any]]:
    """Yield (line, parsed row or _RowError) from a CSV file positioned after its header."""
    text = io.TextIOWrapper(f, encoding="utf-8", newline="")
    reader = csv.reader(text, strict=True)
    done = 0
    try:
        while True:
            line = first_line + done
            try:
                cells = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                yield line, _RowError(f"the row is not CSV: {exc}")
                return
            done = reader.line_num
            try:
                yield line, _csv_row(cells)
            except _RowError as exc:
                exc.external_id = cells[0] if cells else None
                yield line, exc
    finally:
        # The caller owns the binary file: let go of it without closing it.
        if not f.closed:
            text.detach()


def _jsonl_rows(f: BinaryIO, first_line: int) -> Iterator[tuple[int, Any]]:
    for line, text in enumerate(f, start=first_line):
        try:
            yield line, _jsonl_row(text)
        except _RowError as exc:
            yield line, exc


def _open_rows(path: str, fmt: ResultsFormat, offset: int, first_line: int, f: BinaryIO):
    """Return the row iterator of a results file, from offset (0: check the CSV header)."""
    if offset == 0 and fmt is ResultsFormat.CSV:
        header = f.readline().decode("utf-8", "replace").rstrip("\r\n")
        if header not in (",".join(FIELDS), ",".join(PROVEN_FIELDS)):
            raise ResultsTampered(None, 1, None, f"{path} does not start with the CSV header")
        first_line = 2
    else:
        f.seek(offset)
    return (_csv_rows if fmt is ResultsFormat.CSV else _jsonl_rows)(f, first_line)


def read_results(path: str | os.PathLike, fmt: ResultsFormat | str | None = None):
    """Yield the rows of a results file, streaming.

    :raises ResultsTampered: a row is malformed (naming it).
    """
    fmt = results_format(path) if fmt is None else ResultsFormat(fmt)
    with open(path, "rb") as f, contextlib.closing(_open_rows(str(path), fmt, 0, 1, f)) as rows:
        for row, (line, parsed) in enumerate(rows, start=1):
            if isinstance(parsed, _RowError):
                raise ResultsTampered(row, line, parsed.external_id, str(parsed))
            external_id, _, member, seconds, index, stamp, ms, claimed, answer, status = parsed[:10]
            after, before, item = parsed[10:]
            try:
                if not isinstance(answer, dict):
                    answer = json.loads(answer)
                answer_bytes(answer)
                if item is not None and item[1] is not None:
                    answer_bytes(item[1])
            except (ValueError, RecursionError) as exc:
                raise ResultsTampered(row, line, external_id, f"bad answer: {exc}") from None
            yield ResultRow(
                external_id,
                answer,
                member,
                seconds,
                AnswerStatus(status),
                index,
                stamp,
                ms,
                claimed,
                after,
                before,
                *(item or ()),
            )


# --- the proof file -----------------------------------------------------------------------


def _hashes_json(hashes: Iterable[bytes]) -> str:
    return ",".join('"' + binascii.b2a_base64(h, newline=False).decode() + '"' for h in hashes)


def _note_parts(note: str) -> tuple[Checkpoint, str]:
    """Return a signed checkpoint's fields and its first signer's name, without verifying."""
    text, sep, sigs = note.partition("\n\n")
    if not sep or not sigs.startswith("\u2014 "):
        raise InvalidNote("checkpoint note has no signature")
    return parse_checkpoint(text + "\n"), sigs[2:].split(" ", 1)[0]


def make_proof(
    ledger: Ledger,
    indexes: Iterable[int],
    checkpoint_note: str,
    key_name: str | None = None,
    stamps: Sequence[Mapping[str, Any]] = (),
) -> Iterator[bytes]:
    """Yield the lines of the proof file for the answer entries at increasing indexes.

    stamps are the time-stamps (``ledger.interval.stamp_json``) bounding the rows' times.

    Reads entries and stored hashes in batches, so memory stays flat however many rows.

    :raises ValueError: an index is out of order or outside the checkpoint, or the
        checkpoint is not of this ledger.
    """
    checkpoint, signer_name = _note_parts(checkpoint_note)
    size = checkpoint.size
    if size > ledger.size() or ledger.root(size) != checkpoint.root:
        raise ValueError("the checkpoint is not one of this ledger's")
    header = {
        "format": PROOF_FORMAT,
        "checkpoint": checkpoint_note,
        "key_name": key_name or signer_name,
        "size": size,
    }
    if stamps:
        header["timestamps"] = list(stamps)
    yield json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
    count, batch, last = 0, [], -1
    for index in indexes:
        if not (batch[-1] if batch else last) < index < size:
            raise ValueError(f"entry {index} is not after the previous row and inside size {size}")
        batch.append(index)
        if len(batch) == _PROOF_BATCH:
            yield _proof_lines(ledger, batch, last, size)
            count, last, batch = count + len(batch), batch[-1], []
    if batch:
        yield _proof_lines(ledger, batch, last, size)
        count, last = count + len(batch), batch[-1]
    pieces = covering_subtrees(last + 1, size, size)
    # Only the right edge's last piece may be incomplete: its hash is computed, not stored.
    fringe = pieces.pop() if pieces and not _complete(*pieces[-1]) else None
    hashes = ledger.stored_hashes([_stored_index(lo, hi) for lo, hi in pieces])
    if fringe is not None:
        hashes.append(_subtree_hash(fringe[0], size, ledger.stored_hashes))
    yield f'{{"rows":{count},"gap":[{_hashes_json(hashes)}]}}\n'.encode()


def _complete(lo: int, hi: int) -> bool:
    return (hi - lo) & (hi - lo - 1) == 0


def _stored_index(lo: int, hi: int) -> int:
    """Return where the hash of the complete subtree of leaves [lo, hi) is stored."""
    level = (hi - lo).bit_length() - 1
    return stored_hash_index(level, lo >> level)


def _proof_lines(ledger: Ledger, batch: list[int], last: int, size: int) -> bytes:
    """Return the proof lines of a batch of rows; last is the row before it (-1: none)."""
    gaps, stored, prev = [], [], last
    for index in batch:
        pieces = covering_subtrees(prev + 1, index, size) if index > prev + 1 else []
        gaps.append(len(pieces))
        stored.extend(_stored_index(lo, hi) for lo, hi in pieces)
        prev = index
    hashes = [binascii.b2a_base64(h, newline=False) for h in ledger.stored_hashes(stored)]
    raws = ledger.entries_at(batch)
    out: list[bytes] = []
    add, b64, at = out.extend, binascii.b2a_base64, 0
    for index, raw, n in zip(batch, raws, gaps, strict=True):
        gap = b'"' + b'","'.join(hashes[at : at + n]) + b'"' if n else b""
        at += n
        add((b'{"index":', b"%d" % index, b',"entry":"', b64(raw, newline=False), b'","gap":[',
             gap, b"]}\n"))  # fmt: skip
    return b"".join(out)


def write_proof(ledger: Ledger, indexes: Iterable[int], checkpoint_note: str, out: BinaryIO) -> int:
    """Write the proof file for these answer entries to a binary stream; return its bytes."""
    written = 0
    for block in make_proof(ledger, indexes, checkpoint_note):
        out.write(block)
        written += len(block)
    return written


# --- verifying ----------------------------------------------------------------------------


def _answer_fields(raw: bytes) -> tuple:
    """Return (answer hash, item, member, project, seconds, index, rfc3339, unc ns, unix ns).

    The full reading, to say what differs when an entry is not what its row predicts.

    :raises _RowError: the bytes are not an answer entry.
    """
    try:
        entry = decode_entry(raw)
    except InvalidEntry as exc:
        raise _RowError(f"the proof's entry does not decode: {exc}") from None
    data = entry.data
    if entry.kind != ANSWER_KIND:
        raise _RowError(f"the proof's entry {entry.index} is a {entry.kind}, not an answer")
    fields = (data.get("answer_sha256"), data.get("item"), data.get("member"))
    if not all(isinstance(v, str) for v in fields) or type(data.get("seconds")) is not int:
        raise _RowError(f"the proof's entry {entry.index} lacks the answer fields")
    return (*fields, data.get("project"), data["seconds"], entry.index, entry.time.rfc3339,
            entry.time.uncertainty_ns, entry.time.unix_ns)  # fmt: skip


# Reading an answer entry whose data the row predicts: everything up to "project" is known
# bytes, the rest a short grammar; the sources are not read. This reads genuine entries
# exactly as decode_entry does, and anything else (tampered bytes) either reads differently
# from the row, and goes to _answer_fields for the reason, or fails at the Merkle root.
_KNOWN_REST = re.compile(
    rb'(0|[1-9][0-9]{0,14}),"seconds":(0|[1-9][0-9]{0,14}),"subject":"answer:[1-9][0-9]{0,14}"'
    rb'\},"index":(0|[1-9][0-9]{0,14}),"kind":"answer\.submitted","prev":"[0-9a-f]{64}"'
    rb',"time":\{"rfc3339":"([^"]{30})","sources":\['
)
_KNOWN_TAIL = re.compile(
    rb'\],"synced":(?:true|false),"uncertainty_ns":(0|[1-9][0-9]{0,18}),"unix_ns":[1-9][0-9]{0,18}'
    rb'\},"v":1\}'
)


def _read_known(raw: bytes, prefix: bytes, seconds: int, index: int, stamp: bytes):
    """Return (project, uncertainty_ns) if raw is the answer entry the row predicts, else None."""
    if not raw.startswith(prefix):
        return None
    m = _KNOWN_REST.match(raw, len(prefix))
    if m is None or int(m[2]) != seconds or int(m[3]) != index or m[4] != stamp:
        return None
    at = raw.rfind(b'],"synced":')
    t = _KNOWN_TAIL.fullmatch(raw, at) if at >= m.end() else None
    return None if t is None else (int(m[1]), int(t[1]))


_ROW_HEAD = b'{"index":'
_ROW_ENTRY = b',"entry":"'
_ROW_GAP = b'","gap":['


def _proof_row(text: bytes) -> tuple[int, bytes, list[bytes]]:
    """Return (index, entry bytes, gap hashes) from a proof row line in its exact layout."""
    comma = text.find(_ROW_ENTRY, 9)
    end = text.find(_ROW_GAP, comma)
    digits = text[9:comma]
    if (
        not text.startswith(_ROW_HEAD)
        or comma < 0
        or end < 0
        or not text.endswith(b"]}\n")
        or not (digits.isdigit() and (digits[:1] != b"0" or digits == b"0"))
    ):
        raise _RowError("the proof's line for this row is malformed")
    try:
        # Strict base64 admits no quote, so the slices are exactly the JSON strings.
        raw = binascii.a2b_base64(text[comma + 10 : end], strict_mode=True)
        hashes = text[end + 9 : -3]
        gap = []
        if hashes:
            if hashes[:1] != b'"' or hashes[-1:] != b'"':
                raise ValueError
            gap = [binascii.a2b_base64(h, strict_mode=True) for h in hashes[1:-1].split(b'","')]
    except ValueError:
        raise _RowError("the proof's line for this row is malformed") from None
    return int(digits), raw, gap


def _check_row(parsed: tuple, text: bytes, prev: int, size: int) -> tuple[int, bytes, list, Any]:
    """Check one row against its proof line; return (index, leaf hash, gap hashes, project)."""
    external_id, digest, member, seconds, row_index, stamp, ms, claimed = parsed[:8]
    index, raw, gap = _proof_row(text)
    if row_index != index:
        raise _RowError(
            f"ledger_index is {row_index} but the proof's row is entry {index}"
            " (a row was dropped, added or moved)"
        )
    if index <= prev:
        raise _RowError(f"entry {index} is not after the previous row's entry {prev}")
    if index >= size:
        raise _RowError(f"entry {index} is not in the checkpoint of size {size}")
    if digest != claimed:
        raise _RowError("the answer does not hash to the row's answer_sha256")
    item = hashlib.sha256(external_id.encode("utf-8")).hexdigest()
    prefix = (
        f'{{"data":{{"answer_sha256":"{claimed}","item":"{item}","member":"{member}","project":'
    ).encode()
    known = _read_known(raw, prefix, seconds, index, stamp.encode())
    if known is None:
        # Something differs: read the entry in full to say what.
        e_digest, e_item, e_member, project, e_seconds, e_index, e_stamp, unc_ns, _ = (
            _answer_fields(raw)
        )
        if e_index != index:
            raise _RowError(f"the proof's entry says it is index {e_index}, not {index}")
        if item != e_item:
            raise _RowError("external_id is not the item the ledger entry names")
        if claimed != e_digest:
            raise _RowError("answer_sha256 is not the ledger entry's: the answer was changed")
        if member != e_member:
            raise _RowError(f"member is {member!r}, the ledger entry says {e_member!r}")
        if seconds != e_seconds:
            raise _RowError(f"seconds is {seconds}, the ledger entry says {e_seconds}")
        if stamp != e_stamp:
            raise _RowError(f"timestamp is {stamp!r}, the ledger entry says {e_stamp!r}")
    else:
        project, unc_ns = known
    if ms != -(-unc_ns // 1_000_000):
        raise _RowError(f"uncertainty_ms is {ms}, the ledger entry says {uncertainty_ms(unc_ns)}")
    h = _LEAF.copy()
    h.update(raw)
    return index, h.digest(), gap, project


def _check_span(
    results_path: str,
    fmt: ResultsFormat,
    r_offset: int,
    first_line: int,
    proof_path: str,
    p_offset: int,
    after_row: bool,
    first_row: int,
    count: int | None,
    size: int,
    bounded: tuple = ((), ((None, None),)),
) -> tuple:
    """Check count rows (None: up to the proof's last row) from the given file offsets.

    bounded is (cuts, bounds): the time-stamped sizes, and the tightest (after, before)
    RFC 3339 texts (None: unbounded) of the entries between them (ledger.interval.segments).

    Returns ("ok", compact range of the leaves covered, last index, rows, projects,
    proof offset where the rows stopped, flags) or ("bad", row, line, external_id, reason).
    flags say which rows' NTP time lies outside their interval.
    """
    stack: list = []
    flags: list = []
    cuts, bounds = bounded
    projects: set = set()
    row, external_id = first_row, None
    line = first_line + (fmt is ResultsFormat.CSV and r_offset == 0)
    push = compact_push
    with open(results_path, "rb") as rf, open(proof_path, "rb") as pf:
        prev = -1
        if after_row:
            # The gap before this span's first row starts after the row line just before.
            back = min(p_offset, 1 << 16)
            pf.seek(p_offset - back)
            before = pf.read(back)
            try:
                prev = _proof_row(before[before.rfind(b"\n", 0, back - 1) + 1 :])[0]
            except _RowError:
                # The span before this one checks that line and reports it first.
                return ("bad", first_row - 1, None, None, "the proof's line is malformed")
        pf.seek(p_offset)
        try:
            rows = _open_rows(results_path, fmt, r_offset, first_line, rf)
        except ResultsTampered as exc:
            return ("bad", None, exc.line, None, exc.reason)
        offset = p_offset
        try:
            while count is None or row < first_row + count:
                text = pf.readline()
                is_row = text.startswith(_ROW_HEAD)
                got = next(rows, None)
                if got is None:
                    if is_row:
                        index = _proof_row(text)[0]
                        raise _RowError(f"is missing: the proof has entry {index} here")
                    break
                line, parsed = got
                if isinstance(parsed, _RowError):
                    external_id = parsed.external_id
                    raise parsed
                external_id = parsed[0]
                if not is_row:
                    raise _RowError("is not in the proof (an added row)")
                index, leaf, gap, project = _check_row(parsed, text, prev, size)
                if index == prev + 1:
                    if gap:
                        raise _RowError("the proof has hashes between consecutive entries")
                else:
                    pieces = covering_subtrees(prev + 1, index, size)
                    if len(gap) != len(pieces):
                        raise _RowError(f"the proof has {len(gap)} hashes before entry {index}"
                                        f", not {len(pieces)}")  # fmt: skip
                    for (lo, hi), h in zip(pieces, gap, strict=True):
                        if len(h) != 32:
                            raise _RowError("a proof hash is not 32 bytes")
                        push(stack, lo, (hi - lo).bit_length() - 1, h)
                push(stack, index, 0, leaf)
                projects.add(project)
                after, before = bounds[bisect_right(cuts, index)] if cuts else (None, None)
                _check_bounds(parsed, index, after, before, flags)
                prev = index
                offset += len(text)
                row += 1
                line += 1  # where a missing next row would have been
                external_id = None
        except _RowError as exc:
            return ("bad", row, line, external_id, str(exc))
        finally:
            rows.close()
    return ("ok", stack, prev, row - first_row, projects, offset, flags)


def _check_bounds(parsed: tuple, index: int, after, before, flags: list) -> None:
    """Check a row's stated interval is one the stamps prove; flag a time outside it.

    A row may state a wider interval than the stamps give (or none): a stamp stored between
    the results download and the proof download only narrows what the proof proves. The texts
    are fixed-width RFC 3339, so they compare as the times they write.
    """
    stamp, stated_after, stated_before = parsed[5], parsed[10], parsed[11]
    if stated_after and (after is None or stated_after > after):
        raise _RowError(f"bounded_after {stated_after} is not proven by the proof's time-stamps")
    if stated_before and (before is None or stated_before < before):
        raise _RowError(f"bounded_before {stated_before} is not proven by the proof's time-stamps")
    if after is not None and stamp < after:
        flags.append(f"entry {index}: NTP time {stamp} is before the lower bound {after}")
    elif before is not None and stamp > before:
        flags.append(f"entry {index}: NTP time {stamp} is after the upper bound {before}")


@dataclass(frozen=True)
class VerifiedResults:
    """What a verified results file proved."""

    rows: int
    checkpoint: Checkpoint
    projects: tuple[int, ...]
    stamps: int = 0  # time-stamps verified (docs/ledger-format.md §9)
    flags: tuple[str, ...] = ()  # rows whose NTP time lies outside their interval


def _read_line(f: BinaryIO, what: str) -> dict:
    try:
        obj = json.loads(f.readline())
    except ValueError:
        obj = None
    if type(obj) is not dict:
        raise InvalidProof(f"the proof's {what} line is not a JSON object")
    return obj


def _last_line(path: str) -> tuple[int, bytes]:
    """Return (offset, bytes) of a file's last line."""
    with open(path, "rb") as f:
        end = f.seek(0, os.SEEK_END)
        back = min(end, 1 << 16)
        f.seek(end - back)
        tail = f.read(back)
    cut = tail.rfind(b"\n", 0, len(tail) - 1)
    return end - back + cut + 1, tail[cut + 1 :]


def _line_starts(path: str, first: int, every: int, counts: dict) -> Iterator[int]:
    """Yield the offsets of lines first, first + every, ... (0-based), reading once.

    When exhausted, counts[path] holds the file's number of lines.
    """
    lines, pos, want, last = 0, 0, first, b"\n"
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        for block in iter(lambda: f.read(1 << 20), b""):
            n = block.count(b"\n")
            # Line k starts after the k-th newline; look for the wanted ones only.
            while want <= lines + n:
                at = -1
                for _ in range(want - lines):
                    at = block.find(b"\n", at + 1)
                if pos + at + 1 < size:
                    yield pos + at + 1
                want += every
            lines += n
            pos += len(block)
            last = block[-1:]
    counts[path] = lines + (last != b"\n")


def verify_results(
    results_path: str | os.PathLike,
    proof_path: str | os.PathLike,
    verifier: Verifier | str | Sequence[Verifier],
    fmt: ResultsFormat | str | None = None,
    witnesses: Sequence[CosignatureVerifier] = (),
    quorum: int = 0,
    trusted_tsas: Sequence = (),
    origin: str | None = None,
) -> VerifiedResults:
    """Check every results row against its entry and all entries against the checkpoint.

    The checkpoint's origin must be origin, by default the name of the key that signed it.

    :raises InvalidNote: the checkpoint is not signed by verifier, or names another origin.
    :raises InvalidProof: the proof file is not one (bad header or trailer).
    :raises ResultsTampered: naming the first row that does not verify, or none when the
        rows all match their entries but the entries do not lead to the checkpoint root.
    :raises InvalidTimestamp: a time-stamp in the proof's header does not verify.

    Rows whose NTP time lies outside the interval the header's time-stamps give are flagged.
    """
    if isinstance(verifier, str):
        verifier = Verifier.parse(verifier)
    results_path, proof_path = str(results_path), str(proof_path)
    fmt = results_format(results_path) if fmt is None else ResultsFormat(fmt)
    with open(proof_path, "rb") as f:
        header = _read_line(f, "first")
        body = f.tell()
    if header.get("format") != PROOF_FORMAT:
        raise InvalidProof(f"not a {PROOF_FORMAT} proof file")
    verifiers = (verifier,) if isinstance(verifier, Verifier) else tuple(verifier)
    checkpoint = open_checkpoint(str(header.get("checkpoint", "")), verifiers, origin)
    if quorum > 0:
        check_witnesses(str(header["checkpoint"]), witnesses, quorum)
    names = {v.name for v in verifiers}
    if header.get("size") != checkpoint.size or header.get("key_name") not in names:
        raise InvalidProof("the proof's size or key name differ from its checkpoint's")
    size = checkpoint.size
    stamps = check_stamps(header.get("timestamps", []), verifier, size, checkpoint.root,
                          trusted_tsas)  # fmt: skip
    cuts, bounds = segments(stamps)
    spans = (cuts, tuple(tuple(bound_text(b) or None for b in pair) for pair in bounds))
    trailer_at, trailer_text = _last_line(proof_path)
    try:
        trailer = json.loads(trailer_text)
        total, final = trailer["rows"], trailer["gap"]
        final = [binascii.a2b_base64(h, strict_mode=True) for h in final]
    except (ValueError, KeyError, TypeError):
        raise InvalidProof("the proof's last line is not its trailer") from None
    if type(total) is not int or trailer_at < body:
        raise InvalidProof("the proof's last line is not its trailer")
    results = _run_parallel(results_path, fmt, proof_path, total, size, spans)
    if results is None:
        results = [
            _check_span(results_path, fmt, 0, 1, proof_path, body, False, 1, None, size, spans)
        ]
    stack: list = []
    flags: list[str] = []
    rows, projects, last, stop = 0, set(), -1, body
    for result in results:
        if result[0] == "bad":
            raise ResultsTampered(*result[1:])
        _, span_stack, last, count, span_projects, stop, span_flags = result
        flags += span_flags
        for lo, level, h in span_stack:
            compact_push(stack, lo, level, h)
        rows += count
        projects |= span_projects
    if stop != trailer_at or rows != total:
        raise ResultsTampered(
            None, None, None, f"the proof covers {total} rows, the results file {rows}"
        )
    pieces = covering_subtrees(last + 1, size, size)
    if len(final) != len(pieces) or any(len(h) != 32 for h in final):
        raise ResultsTampered(None, None, None, "the proof's final hashes are not for this size")
    fringe = None
    for (lo, hi), h in zip(pieces, final, strict=True):
        if _complete(lo, hi):
            compact_push(stack, lo, (hi - lo).bit_length() - 1, h)
        else:
            fringe = h  # the right edge's incomplete subtree: always the last piece
    root = compact_root(stack, fringe)
    if root != checkpoint.root:
        raise ResultsTampered(
            None,
            None,
            None,
            f"every row matches its entry, but the entries and the proof's hashes do not lead "
            f"to the root of the checkpoint of size {size} (a proof hash or entry was changed)",
        )
    return VerifiedResults(
        rows,
        checkpoint,
        tuple(sorted(p for p in projects if p is not None)),
        len(stamps),
        tuple(flags),
    )


def _run_parallel(
    results_path: str, fmt: ResultsFormat, proof_path: str, total: int, size: int,
    bounded: tuple = ((), ((None, None),)),
) -> list[tuple] | None:
    """Check spans of rows in worker processes; None when the file must be read in order.

    Workers need each span's start in both files, found by counting lines while they run;
    that holds only when every row is one line (no newline inside a CSV cell) and both files
    have as many rows as the proof says. Anything else is checked in order, which names the
    bad row.
    """
    if total < _PARALLEL_MIN or (os.cpu_count() or 1) < 2:
        return None
    head = 1 if fmt is ResultsFormat.CSV else 0
    counts: dict = {}
    r_starts = _line_starts(results_path, head, _SPAN, counts)
    p_starts = _line_starts(proof_path, 1, _SPAN, counts)
    spans = -(-total // _SPAN)
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = []
        for k, (r_at, p_at) in enumerate(zip(r_starts, p_starts, strict=False)):
            if k == spans:
                break
            row = k * _SPAN + 1
            count = min(_SPAN, total - k * _SPAN)
            futures.append(
                pool.submit(
                    _check_span,
                    results_path,
                    fmt,
                    r_at,
                    row + head,
                    proof_path,
                    p_at,
                    k > 0,
                    row,
                    count,
                    size,
                    bounded,
                )  # fmt: skip
            )
        for _ in r_starts:
            pass
        for _ in p_starts:
            pass
        if (
            len(futures) != spans
            or counts[results_path] != total + head
            or counts[proof_path] != total + 2
        ):
            for future in futures:
                future.cancel()
            return None
        return [f.result() for f in futures]
