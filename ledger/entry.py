"""Ledger entries: canonical JSON bytes that are hashed as stored and never re-encoded.

An entry is a JSON object encoded the RFC 8785 way (UTF-8, keys sorted, no insignificant
whitespace, integers only). Its keys are ``v``, ``index``, ``kind``, ``prev`` (lowercase hex
of the previous entry's leaf hash; 64 zeros at index 0), ``time`` and ``data``. ``data`` holds
opaque IDs, integer amounts and SHA-256 hex digests only, so nobody's name or words end up in
an append-only log. See docs/ledger-format.md.
"""

from __future__ import annotations

import functools
import json
import re
import time as _time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .merkle import leaf_hash

__all__ = [
    "FORMAT_VERSION",
    "GENESIS_PREV",
    "MAX_INT",
    "MAX_STRING",
    "Entry",
    "InvalidEntry",
    "TimeBlock",
    "TimeSource",
    "canonical_json",
    "decode_entry",
    "encode_entry",
    "parse_envelope",
    "rfc3339_ns",
]

FORMAT_VERSION = 1
GENESIS_PREV = bytes(32)
# I-JSON (RFC 7493) and RFC 8785 only promise exact integers up to 2**53 - 1.
MAX_INT = 2**53 - 1
MAX_STRING = 128
_INT64_MIN, _INT64_MAX = -(2**63), 2**63
MAX_DEPTH = 4
MAX_ITEMS = 64

_KIND = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
# Ids, hex digests, amounts as strings, URNs: no spaces, quotes or backslashes, so no prose.
_STRING = re.compile(r"[A-Za-z0-9_.:@/+=\[\]-]*")


class InvalidEntry(ValueError):
    """An entry's data or bytes break the entry format."""


@functools.lru_cache(maxsize=8)
def _utc_seconds(seconds: int) -> str:
    # Consecutive entries mostly fall in the same second; formatting it once saves a few µs.
    return _time.strftime("%Y-%m-%dT%H:%M:%S", _time.gmtime(seconds))


def rfc3339_ns(unix_ns: int) -> str:
    """Return unix_ns as an RFC 3339 UTC timestamp with nanoseconds, ending in Z."""
    seconds, nanos = divmod(unix_ns, 1_000_000_000)
    return f"{_utc_seconds(seconds)}.{nanos:09d}Z"


@dataclass(frozen=True)
class TimeSource:
    """One NTP server's sample behind a timestamp (all integers: entries hold no floats)."""

    server: str
    stratum: int
    offset_ns: int
    delay_ns: int
    root_distance_ns: int
    age_ms: int

    def to_json(self) -> dict[str, Any]:
        """Return the JSON object for the entry's time block."""
        return {
            "age_ms": self.age_ms,
            "delay_ns": self.delay_ns,
            "offset_ns": self.offset_ns,
            "root_distance_ns": self.root_distance_ns,
            "server": self.server,
            "stratum": self.stratum,
        }


@dataclass(frozen=True)
class TimeBlock:
    """When an entry was made, how sure we are, and which servers said so."""

    unix_ns: int
    uncertainty_ns: int
    synced: bool
    sources: tuple[TimeSource, ...] = field(default=())
    # Synced, but fewer than two sources agreed: nothing cross-checked the one we used. Only
    # written when true, so entries made before the field existed keep their bytes.
    single_source: bool = False

    @property
    def rfc3339(self) -> str:
        """Return the timestamp as RFC 3339 UTC."""
        return rfc3339_ns(self.unix_ns)

    def to_json(self) -> dict[str, Any]:
        """Return the entry's ``time`` object."""
        obj: dict[str, Any] = {"rfc3339": self.rfc3339}
        if self.single_source:
            obj["single_source"] = True
        obj.update(
            sources=[s.to_json() for s in self.sources],
            synced=self.synced,
            uncertainty_ns=self.uncertainty_ns,
            unix_ns=self.unix_ns,
        )
        return obj

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> TimeBlock:
        """Build a time block from an entry's ``time`` object."""
        try:
            block = cls(
                obj["unix_ns"],
                obj["uncertainty_ns"],
                obj["synced"],
                tuple(TimeSource(**s) for s in obj["sources"]),
                obj.get("single_source", False),
            )
        except (KeyError, TypeError) as exc:
            raise InvalidEntry(f"bad time block: {exc}") from None
        if block.to_json() != obj:
            raise InvalidEntry("time block has unexpected fields or a wrong rfc3339")
        return block


def _check_value(value: Any, depth: int, where: str) -> None:
    # Exactly str or int first: nearly every value is one, and these pass in one test.
    kind = type(value)
    if kind is str and len(value) <= MAX_STRING and _STRING.fullmatch(value):
        return
    if kind is int and -MAX_INT <= value <= MAX_INT:
        return
    # bool is an int subclass; check it first so True is not range-checked as 1.
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if not -MAX_INT <= value <= MAX_INT:
            raise InvalidEntry(f"{where}: integer out of the exact JSON range")
        return
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise InvalidEntry(f"{where}: string longer than {MAX_STRING} characters")
        if not _STRING.fullmatch(value):
            raise InvalidEntry(f"{where}: strings hold ids and hashes, not text")
        return
    if isinstance(value, float):
        raise InvalidEntry(f"{where}: floats are not allowed (use integer cents)")
    if depth >= MAX_DEPTH:
        raise InvalidEntry(f"{where}: nested deeper than {MAX_DEPTH}")
    if isinstance(value, list | tuple):
        if len(value) > MAX_ITEMS:
            raise InvalidEntry(f"{where}: more than {MAX_ITEMS} items")
        for i, item in enumerate(value):
            _check_value(item, depth + 1, f"{where}[{i}]")
        return
    if isinstance(value, Mapping):
        if len(value) > MAX_ITEMS:
            raise InvalidEntry(f"{where}: more than {MAX_ITEMS} keys")
        for key, item in value.items():
            if not isinstance(key, str) or not _KEY.fullmatch(key):
                raise InvalidEntry(f"{where}: key {key!r} is not a short lowercase name")
            _check_value(item, depth + 1, f"{where}.{key}")
        return
    raise InvalidEntry(f"{where}: {type(value).__name__} is not allowed")


def _check_source(source: TimeSource) -> None:
    # Cheaper than _check_value on to_json(): the shape is fixed, only values can be wrong.
    numbers = (
        source.stratum,
        source.offset_ns,
        source.delay_ns,
        source.root_distance_ns,
        source.age_ms,
    )
    for v in numbers:
        if type(v) is not int or not _INT64_MIN < v < _INT64_MAX:
            raise InvalidEntry("time.sources: values must be 64-bit integers")
    if not isinstance(source.server, str) or len(source.server) > MAX_STRING:
        raise InvalidEntry("time.sources: server must be a short string")
    if not _STRING.fullmatch(source.server):
        raise InvalidEntry("time.sources: server must be a host name or address")


def canonical_json(value: Any) -> bytes:
    """Return the canonical encoding: sorted keys, no whitespace, UTF-8, no floats."""
    return _CANONICAL.encode(value).encode("utf-8")


# What json.dumps builds on every call with these options, built once (it keeps no state).
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


@dataclass(frozen=True)
class Entry:
    """One ledger entry: its decoded fields and the stored bytes that are the truth."""

    index: int
    kind: str
    prev: bytes
    time: TimeBlock
    data: Mapping[str, Any]
    raw: bytes = field(repr=False)

    @property
    def leaf_hash(self) -> bytes:
        """Return the RFC 9162 leaf hash of the stored bytes."""
        return leaf_hash(self.raw)


def encode_entry(
    index: int, kind: str, prev: bytes, time: TimeBlock, data: Mapping[str, Any]
) -> Entry:
    """Validate the fields and return the entry with its canonical bytes."""
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= MAX_INT:
        raise InvalidEntry("index must be a non-negative integer")
    if not isinstance(kind, str) or len(kind) > 64 or not _KIND.fullmatch(kind):
        raise InvalidEntry(f"kind {kind!r} is not like 'delivery.submitted'")
    if len(prev) != 32 or (index == 0) != (prev == GENESIS_PREV):
        raise InvalidEntry("prev must be 32 bytes, all zero exactly at index 0")
    if not isinstance(data, Mapping):
        raise InvalidEntry("data must be an object")
    _check_value(dict(data), 0, "data")
    for source in time.sources:
        _check_source(source)
    if type(time.unix_ns) is not int or type(time.uncertainty_ns) is not int:
        raise InvalidEntry("time must be integer nanoseconds")
    if not 0 <= time.unix_ns < 2**63 or not 0 <= time.uncertainty_ns < 2**63:
        raise InvalidEntry("time must be a non-negative 64-bit integer")
    if type(time.synced) is not bool:
        raise InvalidEntry("time.synced must be a boolean")
    if type(time.single_source) is not bool or (time.single_source and not time.synced):
        raise InvalidEntry("time.single_source must be a boolean, true only when synced")
    # Everything outside data is integers and strings already checked to need no escaping,
    # so it is formatted directly, in canonical key order; tests check this equals
    # canonical_json of the whole object.
    sources = ",".join(
        f'{{"age_ms":{s.age_ms},"delay_ns":{s.delay_ns},"offset_ns":{s.offset_ns},'
        f'"root_distance_ns":{s.root_distance_ns},"server":"{s.server}","stratum":{s.stratum}}}'
        for s in time.sources
    )
    raw = (
        f'{{"data":{canonical_json(data).decode()},"index":{index},"kind":"{kind}",'
        f'"prev":"{prev.hex()}","time":{{"rfc3339":"{time.rfc3339}",'
        f'{_SINGLE_SOURCE if time.single_source else ""}"sources":[{sources}],'
        f'"synced":{"true" if time.synced else "false"},"uncertainty_ns":{time.uncertainty_ns},'
        f'"unix_ns":{time.unix_ns}}},"v":{FORMAT_VERSION}}}'
    ).encode()
    return Entry(index, kind, prev, time, dict(data), raw)


_SINGLE_SOURCE = '"single_source":true,'


def _no_float(text: str) -> Any:
    raise InvalidEntry("floats are not allowed")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise InvalidEntry("duplicate key")
    return obj


def decode_entry(raw: bytes) -> Entry:
    """Decode and fully validate stored bytes; they must be exactly canonical."""
    try:
        obj = json.loads(
            raw.decode("utf-8"),
            parse_float=_no_float,
            parse_constant=_no_float,
            object_pairs_hook=_no_duplicates,
        )
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise InvalidEntry(f"not UTF-8 JSON: {exc}") from None
    if not isinstance(obj, dict) or set(obj) != {"data", "index", "kind", "prev", "time", "v"}:
        raise InvalidEntry("entry must have exactly data, index, kind, prev, time and v")
    if obj["v"] != FORMAT_VERSION:
        raise InvalidEntry(f"unknown format version {obj['v']!r}")
    if not isinstance(obj["prev"], str) or not re.fullmatch(r"[0-9a-f]{64}", obj["prev"]):
        raise InvalidEntry("prev must be 64 lowercase hex digits")
    if not isinstance(obj["time"], dict):
        raise InvalidEntry("time must be an object")
    entry = encode_entry(
        obj["index"],
        obj["kind"],
        bytes.fromhex(obj["prev"]),
        TimeBlock.from_json(obj["time"]),
        obj["data"],
    )
    if entry.raw != raw:
        raise InvalidEntry("bytes are not in canonical form")
    return Entry(entry.index, entry.kind, entry.prev, entry.time, entry.data, raw)


# int64 range: unix_ns needs 19 digits (it exceeds 2**53; parse it as a 64-bit integer).
# Possessive repeats (*+, {m,n}+) match the same language here, because what follows each
# one can never be matched by it, and save the matcher its backtracking bookkeeping: this
# pattern is most of the cost of verifying an export.
_INT = rb"(?:0|[1-9][0-9]{0,18}+)"
_SOURCE = (
    rb'\{"age_ms":' + _INT + rb',"delay_ns":' + _INT + rb',"offset_ns":-?' + _INT
    + rb',"root_distance_ns":' + _INT + rb',"server":"[A-Za-z0-9_.:@/+=\[\]-]{0,128}+"'
    + rb',"stratum":' + _INT + rb"\}"
)  # fmt: skip
# Everything after "data": a fixed grammar that cannot contain ',"index":', so the last
# occurrence of that marker is the top-level one and fields sit where this says.
_TAIL = re.compile(
    rb',"index":(' + _INT + rb'),"kind":"([a-z0-9_.]{1,64}+)","prev":"([0-9a-f]{64})"'
    rb',"time":\{"rfc3339":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z"'
    rb'(?:,"single_source":true)?+,"sources":\[(?:' + _SOURCE + rb"(?:," + _SOURCE + rb")*+)?\]"
    rb',"synced":(?:true|false),"uncertainty_ns":' + _INT + rb',"unix_ns":(' + _INT + rb")"
    rb'\},"v":1\}'
)
_HEAD = b'{"data":{'
# The shortest bytes _TAIL matches: a scan for the marker may skip the last this many.
_TAIL_MIN = len(
    b',"index":0,"kind":"a","prev":"' + b"0" * 64 + b'","time":{"rfc3339":"'
    b'0000-00-00T00:00:00.000000000Z","sources":[],"synced":true,"uncertainty_ns":0,'
    b'"unix_ns":0},"v":1}'
)


def parse_envelope(raw: bytes) -> tuple[int, bytes, int] | None:
    """Return (index, prev hex, unix_ns) from stored bytes without a full JSON decode.

    Fast path for verifying large exports: it checks the grammar of everything outside
    ``data``; ``decode_entry`` is the full check. Returns None when the bytes do not fit.
    """
    pos = raw.rfind(b',"index":')
    if pos < 0 or not raw.startswith(_HEAD):
        return None
    m = _TAIL.fullmatch(raw, pos)
    if m is None:
        return None
    return int(m[1]), m[3], int(m[4])
