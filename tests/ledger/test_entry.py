"""Entries are canonical JSON, integers only, ids and hashes only, and decode to their bytes."""

from __future__ import annotations

import pytest

from ledger.entry import (
    GENESIS_PREV,
    InvalidEntry,
    TimeBlock,
    TimeSource,
    decode_entry,
    encode_entry,
    parse_envelope,
    rfc3339_ns,
)

TIME = TimeBlock(
    1_763_800_000_123_456_789,
    2_000_000,
    True,
    (TimeSource("0.pool.ntp.org", 2, -1500, 20_000_000, 9_000_000, 1200),),
)


def test_canonical_bytes_are_sorted_and_compact():
    entry = encode_entry(0, "task.completed", GENESIS_PREV, TIME, {"task": "t1", "cents": 1250})
    text = entry.raw.decode()
    assert text.startswith('{"data":{"cents":1250,"task":"t1"},"index":0,"kind":"task.completed"')
    assert '"prev":"' + "0" * 64 + '"' in text
    assert text.endswith(',"unix_ns":1763800000123456789},"v":1}')
    assert " " not in text and "\n" not in text
    assert decode_entry(entry.raw) == entry
    assert parse_envelope(entry.raw) == (0, b"0" * 64, 1_763_800_000_123_456_789)


def test_rfc3339_has_nanoseconds_and_z():
    assert rfc3339_ns(1_763_800_000_123_456_789) == "2025-11-22T08:26:40.123456789Z"
    assert rfc3339_ns(0) == "1970-01-01T00:00:00.000000000Z"


@pytest.mark.parametrize(
    "data",
    [
        {"amount": 1.5},
        {"note": "x" * 129},
        {"name": "Ada Lovelace"},
        {"quote": 'a"b'},
        {"Bad Key": 1},
        {"big": 2**53},
        {"deep": {"a": {"b": {"c": {"d": 1}}}}},
        {"set": {1, 2}},
        {"many": list(range(65))},
    ],
)
def test_bad_data_rejected(data):
    with pytest.raises(InvalidEntry):
        encode_entry(1, "task.completed", b"\x01" * 32, TIME, data)


def test_nested_ids_and_hashes_allowed():
    data = {"files": [{"sha256": "ab" * 32, "bytes": 10}], "ok": True, "none": None}
    entry = encode_entry(3, "delivery.submitted", b"\x01" * 32, TIME, data)
    assert decode_entry(entry.raw).data == data


@pytest.mark.parametrize(
    ("index", "kind", "prev"),
    [
        (0, "task.completed", b"\x01" * 32),
        (1, "task.completed", GENESIS_PREV),
        (1, "Task", b"1" * 32),
    ],
)
def test_bad_envelope_rejected(index, kind, prev):
    with pytest.raises(InvalidEntry):
        encode_entry(index, kind, prev, TIME, {})


@pytest.mark.parametrize(
    "raw",
    [
        b'{"data":{},"index":0}',
        b"not json",
        b'{"v":1.0}',
    ],
)
def test_undecodable_bytes_rejected(raw):
    with pytest.raises(InvalidEntry):
        decode_entry(raw)


def test_non_canonical_bytes_rejected():
    raw = encode_entry(1, "task.completed", b"\x01" * 32, TIME, {"a": 1}).raw
    with pytest.raises(InvalidEntry, match="canonical"):
        decode_entry(raw.replace(b'{"a":1}', b'{"a":01}'.replace(b"01", b"1 ")))
    assert parse_envelope(raw.replace(b'"v":1}', b'"v":2}')) is None
