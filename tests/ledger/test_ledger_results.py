"""Results files and their proof file verify offline against one checkpoint, row by row.

A real Ledger on SQLite holds a few hundred answer entries interleaved with other entries;
the results (CSV and JSON Lines) and the proof made from it verify, and every kind of
tampering (a changed answer, member, seconds, external_id or time; a dropped, added or moved
row; a changed proof hash or entry; another key; another checkpoint) fails naming the first
bad row, or the proof as a whole when no row is at fault. The item's columns (gold flag,
aggregated answer, confidence, method) are outside the proof: checked for form only, and files
made before they existed still verify. The multi-leaf proof is checked
against RFC 9162 roots for random tree sizes and leaf sets.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import peewee
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_ledger_concurrency import postgres_url  # noqa: F401 (a fixture)

from ledger import merkle, note, results, store
from ledger.clock import ManualClock
from ledger.entry import TimeBlock, TimeSource, decode_entry, encode_entry
from ledger.merkle import InvalidProof
from ledger.results import (
    FIELDS,
    PROVEN_FIELDS,
    InvalidAnswer,
    ResultsTampered,
    answer_bytes,
    make_proof,
    read_results,
    verify_results,
    write_results,
)

ORIGIN = "coop.test/results"
SIGNER = note.Signer.parse(note.generate_signer_key(ORIGIN)[0])
VKEY = str(SIGNER.verifier)
ANSWERS = 300


def _answer(i: int) -> dict:
    return {"label": ["cat", "dog", "chat noir"][i % 3], "sure": i % 2 == 0, "n": i, "tags": ["é"]}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build a ledger with answers among other entries; return rows, notes and the folder."""
    folder = tmp_path_factory.mktemp("results")
    database = peewee.SqliteDatabase(str(folder / "ledger.db"), pragmas={"journal_mode": "wal"})
    store.bind(database)
    store.create_tables()
    ledger = store.Ledger(ManualClock(uncertainty_ns=12_300_001))
    rows = []
    with database.atomic():
        for i in range(ANSWERS):
            if i % 3 == 1 or i % 7 == 0:
                ledger.append("answers.reviewed", {"project": 3, "action": "accept", "count": i})
            external_id = f"img-{i:04d}.jpg" if i % 11 else f'photo, {i} "quoted"'
            entry = ledger.append(
                "answer.submitted",
                {
                    "project": 3,
                    "item": results.item_sha256(external_id),
                    "answer_sha256": results.answer_sha256(_answer(i)),
                    "member": f"m-{i % 9}",
                    "seconds": 5 + i % 40,
                    "subject": f"answer:{i + 1}",
                },
            )
            status = ("pending", "accepted", "rejected")[i % 3]
            row = results.row_for_entry(entry, external_id, _answer(i), status)
            if i % 4:  # the item's columns, as an export fills them (some left empty)
                row = replace(row, gold=i % 5 == 0, aggregate={"label": "cat"},
                              confidence=round(1 / (1 + i % 4), 4), method="dawid_skene")
            rows.append(row)
        for i in range(5):
            ledger.append("task.completed", {"task": f"t{i}"})
    first = ledger.checkpoint(SIGNER, ORIGIN)
    for i in range(9):
        ledger.append("task.completed", {"task": f"later{i}"})
    later = ledger.checkpoint(SIGNER, ORIGIN)
    indexes = [r.ledger_index for r in rows]
    proof = b"".join(make_proof(ledger, indexes, first))
    (folder / "proof.jsonl").write_bytes(proof)
    (folder / "later.jsonl").write_bytes(b"".join(make_proof(ledger, indexes, later)))
    for fmt in ("csv", "jsonl"):
        with open(folder / f"results.{fmt}", "wb") as f:
            write_results(rows, fmt, f)
    inclusion = sum(len(ledger.inclusion_proof(i, ledger.size()).hashes) for i in indexes)
    yield {
        "folder": folder,
        "rows": rows,
        "first": first,
        "later": later,
        "ledger": ledger,
        "inclusion_hashes": inclusion,
    }
    database.close()


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ledger", *args], capture_output=True, text=True, check=False
    )


# --- the answer's canonical bytes --------------------------------------------------------


def test_answer_bytes_sorted_compact_utf8():
    got = answer_bytes({"z": ["b", "a"], "a": "été", "ok": False, "n": -3})
    assert got == '{"a":"été","n":-3,"ok":false,"z":["b","a"]}'.encode()


@pytest.mark.parametrize(
    "answer",
    [{"x": 1.5}, {"x": {"y": "z"}}, {"x": [1, 2]}, {"x": None}, {1: "a"}, ["a"], {"x": 2**60}],
)
def test_answer_bytes_refuses_what_the_contract_excludes(answer):
    with pytest.raises(InvalidAnswer):
        answer_bytes(answer)


# --- the multi-leaf proof ----------------------------------------------------------------


def _maximal_subtrees(lo: int, hi: int, chosen: set[int]) -> list[tuple[int, int]]:
    """The proof by its definition: the subtrees holding no chosen leaf whose parent does."""
    if not any(lo <= i < hi for i in chosen):
        return [(lo, hi)]
    if hi - lo == 1:
        return []
    k = 1 << ((hi - lo - 1).bit_length() - 1)
    return _maximal_subtrees(lo, lo + k, chosen) + _maximal_subtrees(lo + k, hi, chosen)


@st.composite
def trees(draw):
    size = draw(st.integers(1, 300))
    chosen = draw(st.sets(st.integers(0, size - 1), max_size=size))
    return size, sorted(chosen)


def _leaves(size: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(size)]


@settings(max_examples=300, deadline=None)
@given(trees())
def test_multileaf_proof_is_minimal_and_leads_to_the_rfc9162_root(tree):
    size, chosen = tree
    gaps = merkle.multileaf_gaps(chosen, size)
    assert [p for gap in gaps for p in gap] == _maximal_subtrees(0, size, set(chosen))
    leaves = _leaves(size)
    hashes = [[merkle.root_from_leaf_hashes(leaves[lo:hi]) for lo, hi in gap] for gap in gaps]
    root = merkle.multileaf_root(size, chosen, [leaves[i] for i in chosen], hashes)
    assert root == merkle.root_from_leaf_hashes(leaves)


@settings(max_examples=200, deadline=None)
@given(trees(), st.data())
def test_multileaf_proof_with_any_changed_hash_misses_the_root(tree, data):
    size, chosen = tree
    leaves = _leaves(size)
    gaps = merkle.multileaf_gaps(chosen, size)
    hashes = [[merkle.root_from_leaf_hashes(leaves[lo:hi]) for lo, hi in gap] for gap in gaps]
    picked = [leaves[i] for i in chosen]
    slots = [("gap", j, k) for j, gap in enumerate(hashes) for k in range(len(gap))]
    slots += [("leaf", j, 0) for j in range(len(picked))]
    what, j, k = data.draw(st.sampled_from(slots))
    if what == "gap":
        hashes[j][k] = bytes(32)
    else:
        picked[j] = bytes(32)
    assert merkle.multileaf_root(size, chosen, picked, hashes) != merkle.root_from_leaf_hashes(
        leaves
    )


def test_multileaf_root_refuses_a_proof_of_the_wrong_shape():
    leaves = _leaves(7)
    gaps = [
        [merkle.root_from_leaf_hashes(leaves[lo:hi]) for lo, hi in g]
        for g in merkle.multileaf_gaps([2], 7)
    ]
    with pytest.raises(InvalidProof, match="gap 1"):
        merkle.multileaf_root(7, [2], [leaves[2]], [gaps[0], gaps[1][:-1]])
    with pytest.raises(InvalidProof):
        merkle.multileaf_root(7, [3, 2], [leaves[3], leaves[2]], [[], [], []])


# --- reading answer entries against their rows -------------------------------------------

_ids = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_.:", min_size=0, max_size=130)
_ints = st.one_of(st.integers(0, 2**53 - 1), st.integers(-(2**63) + 1, 2**63 - 1))


@settings(max_examples=300, deadline=None)
@given(
    member=_ids,
    seconds=_ints,
    project=_ints,
    index=st.integers(1, 2**53 - 1),
    unix_ns=st.integers(0, 2**63 - 1),
    uncertainty=st.integers(0, 2**63 - 1),
    offset=st.integers(-(2**62), 2**62),
    flip=st.integers(0, 2000),
)
def test_answer_entries_read_against_the_row_as_decode_entry_reads_them(
    member, seconds, project, index, unix_ns, uncertainty, offset, flip
):
    data = {
        "answer_sha256": "a" * 64,
        "item": "b" * 64,
        "member": member,
        "project": project,
        "seconds": seconds,
        "subject": f"answer:{index}",
    }
    source = TimeSource("pool.ntp.org", 2, offset, 1000, 2000, 7)
    try:
        raw = encode_entry(
            index,
            "answer.submitted",
            b"\x01" * 32,
            TimeBlock(unix_ns, uncertainty, True, (source,)),
            data,
        ).raw
    except ValueError:
        return
    # The row-guided reader gives decode_entry's values for a genuine entry, or declines
    # (unusual integers) and leaves it to the full reader.
    prefix = (
        f'{{"data":{{"answer_sha256":"{"a" * 64}","item":"{"b" * 64}","member":"{member}",'
        '"project":'
    ).encode()
    stamp = decode_entry(raw).time.rfc3339.encode()
    known = results._read_known(raw, prefix, seconds, index, stamp)
    if 0 <= project < 10**15 and 0 <= seconds < 10**15 and index < 10**15 and unix_ns:
        assert known == (project, uncertainty)
    else:
        assert known in (None, (project, uncertainty))
    assert results._read_known(raw, prefix, seconds + 1, index, stamp) is None
    # Changed bytes: what the reader accepts, decode_entry reads the same way, or refuses
    # (then only the Merkle root, which the log's bytes must meet, can catch it).
    changed = raw[: flip % len(raw)] + b"9" + raw[flip % len(raw) + 1 :]
    known = results._read_known(changed, prefix, seconds, index, stamp)
    if known is not None:
        try:
            entry = decode_entry(changed)
        except ValueError:
            return
        assert (entry.data["member"], entry.data["seconds"], entry.index) == (
            member,
            seconds,
            index,
        )
        assert known == (entry.data["project"], entry.time.uncertainty_ns)


# --- round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_results_round_trip_and_verify(built, fmt):
    folder, rows = built["folder"], built["rows"]
    path = folder / f"results.{fmt}"
    assert list(read_results(path)) == rows
    checked = verify_results(path, folder / "proof.jsonl", VKEY)
    assert checked.rows == ANSWERS
    assert checked.checkpoint.size == int(built["first"].split("\n")[1])
    assert checked.projects == (3,)
    # Indexes are not contiguous, so the proof carries hashes, far fewer than one
    # inclusion proof per row would.
    proof_lines = (folder / "proof.jsonl").read_text().splitlines()
    gap_hashes = sum(len(json.loads(line)["gap"]) for line in proof_lines[1:])
    assert 0 < gap_hashes < built["inclusion_hashes"] / 4


def test_csv_row_shape_and_answer_text(built):
    text = (built["folder"] / "results.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == ",".join(FIELDS)
    first = next(csv.reader([lines[1]]))
    row = built["rows"][0]
    assert first[1] == answer_bytes(row.answer).decode()
    assert first[6].endswith("Z") and len(first[6]) == 30
    assert first[7] == "13"  # 12.300001 ms, rounded up: never understated


def test_cli_verifies_results(built):
    folder = built["folder"]
    done = run_cli(
        "verify-results", str(folder / "results.csv"), str(folder / "proof.jsonl"), "--key", VKEY
    )
    assert done.returncode == 0, done.stderr
    size = built["first"].split("\n")[1]
    assert done.stdout.startswith(f"OK: {ANSWERS} rows verified against checkpoint size {size}")
    assert "Not covered by the proof: status, gold, aggregate, confidence, method." in done.stdout


def test_a_witness_policy_needs_the_cosignatures_in_the_proof(built, tmp_path):
    from ledger.witness import CosignatureSigner, generate_witness_key

    witness = CosignatureSigner.parse(generate_witness_key("w.test/results")[0])
    first = built["first"]
    line = witness.cosign(first[: first.index("\n\n") + 1]).line()
    indexes = [r.ledger_index for r in built["rows"]]
    cosigned = tmp_path / "cosigned.jsonl"
    cosigned.write_bytes(b"".join(make_proof(built["ledger"], indexes, first + line)))
    folder = built["folder"]
    policy = ["--key", VKEY, "--witness", str(witness.verifier), "--quorum", "1"]
    done = run_cli("verify-results", str(folder / "results.csv"), str(cosigned), *policy)
    assert done.returncode == 0, done.stderr
    assert "cosigned by 1 of 1 witnesses" in done.stdout
    done = run_cli(
        "verify-results", str(folder / "results.csv"), str(folder / "proof.jsonl"), *policy
    )
    assert done.returncode == 1
    assert "0 of the 1 witness cosignatures" in done.stderr


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_the_item_columns_are_outside_the_proof(built, tmp_path, fmt):
    records = _records(built["folder"] / f"results.{fmt}", fmt)
    # Another aggregated answer, confidence and method, and a gold flag flipped: each in form,
    # none in the ledger, so the rows still verify (the docs say so).
    records[5]["aggregate"] = '{"label":"dog"}' if fmt == "csv" else {"label": "dog"}
    records[5]["confidence"] = "0.1234" if fmt == "csv" else 0.1234
    records[5]["method"] = "majority"
    records[5]["gold"] = "true" if fmt == "csv" else True
    path = _write(tmp_path / f"results.{fmt}", fmt, records)
    assert verify_results(path, built["folder"] / "proof.jsonl", VKEY).rows == ANSWERS
    row = list(read_results(path))[5]
    assert (row.aggregate, row.confidence, row.method, row.gold) == (
        {"label": "dog"}, 0.1234, "majority", True)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_files_made_before_the_item_columns_still_verify(built, tmp_path, fmt):
    records = _records(built["folder"] / f"results.{fmt}", fmt)
    old = [{k: r[k] for k in PROVEN_FIELDS} for r in records]
    path = _write(tmp_path / f"results.{fmt}", fmt, old, PROVEN_FIELDS)
    assert verify_results(path, built["folder"] / "proof.jsonl", VKEY).rows == ANSWERS
    assert list(read_results(path)) == [
        replace(r, gold=False, aggregate=None, confidence=0.0, method="") for r in built["rows"]
    ]


def test_a_spreadsheet_respaced_answer_still_verifies(built, tmp_path):
    records = _records(built["folder"] / "results.csv", "csv")
    records[4]["answer"] = json.dumps(json.loads(records[4]["answer"]), indent=1)
    path = _write(tmp_path / "results.csv", "csv", records)
    assert verify_results(path, built["folder"] / "proof.jsonl", VKEY).rows == ANSWERS


# --- tampering ----------------------------------------------------------------------------


def _records(path: Path, fmt: str) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(text, newline="")))
    return [json.loads(line) for line in text.splitlines()]


def _write(path: Path, fmt: str, records: list[dict], fields=FIELDS) -> Path:
    out = io.StringIO(newline="")
    if fmt == "csv":
        writer = csv.DictWriter(out, fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    else:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _bump(value):
    return str(int(value) + 1) if isinstance(value, str) else value + 1


def _other_answer(fmt: str, record: dict) -> None:
    answer = {"label": "zebra", "n": 0, "sure": True, "tags": ["é"]}
    record["answer"] = answer_bytes(answer).decode() if fmt == "csv" else answer


def _other_answer_and_hash(fmt: str, record: dict) -> None:
    _other_answer(fmt, record)
    answer = record["answer"] if fmt == "jsonl" else json.loads(record["answer"])
    record["answer_sha256"] = results.answer_sha256(answer)


def _set(field, change):
    def tamper(fmt, records):
        change_to = change(records[16][field])
        records[16][field] = change_to

    return tamper


def _call(fn):
    def tamper(fmt, records):
        fn(fmt, records[16])

    return tamper


# (how, row named (1-based), what the reason says)
ROW_TAMPERS = {
    "answer changed": (_call(_other_answer), 17, "does not hash to the row's answer_sha256"),
    "answer and its hash changed": (_call(_other_answer_and_hash), 17, "the answer was changed"),
    "member changed": (_set("member", lambda v: "m-x"), 17, "member is 'm-x'"),
    "seconds changed": (_set("seconds", _bump), 17, "seconds is"),
    "external_id changed": (_set("external_id", lambda v: v + "x"), 17, "external_id"),
    "timestamp changed": (
        _set("timestamp", lambda v: v.replace("T", "T1", 1)[:30]),
        17,
        "timestamp is",
    ),
    "uncertainty changed": (_set("uncertainty_ms", _bump), 17, "uncertainty_ms is"),
    "index changed": (_set("ledger_index", _bump), 17, "a row was dropped, added or moved"),
    "row dropped": (lambda fmt, r: r.pop(16), 17, "a row was dropped, added or moved"),
    "rows swapped": (lambda fmt, r: r.insert(16, r.pop(17)), 17, "dropped, added or moved"),
    "row repeated": (lambda fmt, r: r.insert(17, dict(r[16])), 18, "dropped, added or moved"),
    "last row dropped": (lambda fmt, r: r.pop(), ANSWERS, "is missing: the proof has entry"),
    "row added at the end": (lambda fmt, r: r.append(dict(r[3])), ANSWERS + 1, "not in the proof"),
    "bad status": (_set("status", lambda v: "maybe"), 17, "status 'maybe'"),
    "gold not a flag": (_set("gold", lambda v: "maybe"), 17, "gold"),
    "aggregate not an object": (_set("aggregate", lambda v: "[1]"), 17, "aggregate is"),
    "confidence above 1": (_set("confidence", lambda v: "1.5"), 17, "confidence"),
    "method not a name": (_set("method", lambda v: "Bad Method!"), 17, "method"),
}


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize("case", list(ROW_TAMPERS))
def test_tampered_results_name_the_first_bad_row(built, tmp_path, fmt, case):
    tamper, row, reason = ROW_TAMPERS[case]
    records = _records(built["folder"] / f"results.{fmt}", fmt)
    tamper(fmt, records)
    path = _write(tmp_path / f"results.{fmt}", fmt, records)
    with pytest.raises(ResultsTampered) as caught:
        verify_results(path, built["folder"] / "proof.jsonl", VKEY)
    assert caught.value.row == row
    assert caught.value.line == row + (1 if fmt == "csv" else 0)
    assert reason in caught.value.reason
    if row <= len(records):
        assert caught.value.external_id == records[row - 1]["external_id"]


def _proof_lines(built) -> list[str]:
    return (built["folder"] / "proof.jsonl").read_text().splitlines(keepends=True)


def compact(obj: dict) -> str:
    """Return a proof line in the exact layout the format asks for."""
    return json.dumps(obj, separators=(",", ":")) + "\n"


def _write_proof(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "proof.jsonl"
    path.write_text("".join(lines))
    return path


def test_a_changed_proof_hash_fails_at_the_root(built, tmp_path):
    lines = _proof_lines(built)
    at = next(k for k, line in enumerate(lines[1:-1], 1) if json.loads(line)["gap"])
    obj = json.loads(lines[at])
    obj["gap"][0] = base64.b64encode(bytes(32)).decode()
    lines[at] = compact(obj)
    with pytest.raises(ResultsTampered) as caught:
        verify_results(built["folder"] / "results.csv", _write_proof(tmp_path, lines), VKEY)
    # Every row still matches its entry: only the root can tell, and it cannot say where.
    assert caught.value.row is None
    assert "do not lead to the root of the checkpoint" in caught.value.reason


def test_a_changed_proof_entry_names_its_row(built, tmp_path):
    lines = _proof_lines(built)
    obj = json.loads(lines[40])
    raw = base64.b64decode(obj["entry"]).replace(b'"seconds":', b'"seconds":1', 1)
    obj["entry"] = base64.b64encode(raw).decode()
    lines[40] = compact(obj)
    with pytest.raises(ResultsTampered) as caught:
        verify_results(built["folder"] / "results.jsonl", _write_proof(tmp_path, lines), VKEY)
    assert caught.value.row == 40
    assert "seconds is" in caught.value.reason


def test_a_proof_line_dropped_with_its_row_fails(built, tmp_path):
    lines = _proof_lines(built)
    del lines[17]
    records = _records(built["folder"] / "results.jsonl", "jsonl")
    del records[16]
    path = _write(tmp_path / "results.jsonl", "jsonl", records)
    with pytest.raises(ResultsTampered) as caught:
        verify_results(path, _write_proof(tmp_path, lines), VKEY)
    # The gap left by the missing entry needs other hashes than the proof holds.
    assert caught.value.row == 17 and "hashes before entry" in caught.value.reason


def test_a_checkpoint_signed_by_another_key_fails(built, tmp_path):
    other = note.Signer.parse(note.generate_signer_key(ORIGIN)[0])
    lines = _proof_lines(built)
    header = json.loads(lines[0])
    text = header["checkpoint"].split("\n\n")[0] + "\n"
    header["checkpoint"] = note.sign_note(text, other)
    lines[0] = json.dumps(header) + "\n"
    with pytest.raises(note.InvalidNote):
        verify_results(built["folder"] / "results.csv", _write_proof(tmp_path, lines), VKEY)
    done = run_cli(
        "verify-results",
        str(built["folder"] / "results.csv"),
        str(tmp_path / "proof.jsonl"),
        "--key",
        VKEY,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("FAILED: ") and "Traceback" not in done.stderr


def test_a_checkpoint_resigned_with_another_origin_fails(built, tmp_path):
    lines = _proof_lines(built)
    header = json.loads(lines[0])
    body = header["checkpoint"].split("\n\n")[0] + "\n"
    header["checkpoint"] = note.sign_note("other.example/log" + body[body.index("\n"):], SIGNER)
    lines[0] = json.dumps(header) + "\n"
    proof = _write_proof(tmp_path, lines)
    with pytest.raises(note.InvalidNote, match="origin"):
        verify_results(built["folder"] / "results.csv", proof, VKEY)
    done = run_cli("verify-results", str(built["folder"] / "results.csv"), str(proof),
                   "--key", VKEY)
    assert done.returncode == 1 and "origin" in done.stderr


def test_a_proof_for_another_checkpoint_size_fails(built, tmp_path):
    lines = _proof_lines(built)
    later = (built["folder"] / "later.jsonl").read_text().splitlines(keepends=True)
    # The later proof's header (a genuine, signed, larger checkpoint) on this proof's rows:
    # the rows and the gaps before them verify, the hashes after the last row do not.
    with pytest.raises((ResultsTampered, InvalidProof)) as caught:
        verify_results(
            built["folder"] / "results.csv", _write_proof(tmp_path, [later[0], *lines[1:]]), VKEY
        )
    assert getattr(caught.value, "row", None) is None
    # And a header that claims another size than its checkpoint is refused outright.
    header = json.loads(lines[0])
    header["size"] += 1
    with pytest.raises(InvalidProof, match="size"):
        verify_results(
            built["folder"] / "results.csv",
            _write_proof(tmp_path, [json.dumps(header) + "\n", *lines[1:]]),
            VKEY,
        )
    # The later proof itself verifies against its own checkpoint.
    assert verify_results(built["folder"] / "results.csv", built["folder"] / "later.jsonl", VKEY)


def test_cli_names_the_row_in_one_line(built, tmp_path):
    records = _records(built["folder"] / "results.csv", "csv")
    records[16]["seconds"] = "999"
    path = _write(tmp_path / "results.csv", "csv", records)
    done = run_cli("verify-results", str(path), str(built["folder"] / "proof.jsonl"), "--key", VKEY)
    assert done.returncode == 1
    external_id = records[16]["external_id"]
    assert done.stderr == (
        f"FAILED: row 17 (line 18, external_id {external_id!r}): seconds is 999, "
        f"the ledger entry says {built['rows'][16].seconds}\n"
    )


# --- many rows: the worker processes ------------------------------------------------------


@pytest.fixture
def small_spans(monkeypatch):
    """Split even a few hundred rows over worker processes (forked: they see the patch)."""
    monkeypatch.setattr(results, "_PARALLEL_MIN", 10)
    monkeypatch.setattr(results, "_SPAN", 64)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_workers_verify_and_name_the_first_bad_row(built, tmp_path, small_spans, fmt):
    folder = built["folder"]
    path, proof = folder / f"results.{fmt}", folder / "proof.jsonl"
    size = int(built["first"].split("\n")[1])
    spans = results._run_parallel(str(path), results.ResultsFormat(fmt), str(proof), ANSWERS, size)
    assert [s[0] for s in spans] == ["ok"] * 5
    assert verify_results(path, proof, VKEY).rows == ANSWERS
    records = _records(path, fmt)
    records[200]["member"] = "m-x"
    records[250]["member"] = "m-y"
    with pytest.raises(ResultsTampered) as caught:
        verify_results(_write(tmp_path / f"r.{fmt}", fmt, records), proof, VKEY)
    assert caught.value.row == 201
    # Spans start at rows 1, 65, 129, ...: rows swapped across a seam, and a span's first row.
    records = _records(path, fmt)
    records[127], records[128] = records[128], records[127]
    with pytest.raises(ResultsTampered) as caught:
        verify_results(_write(tmp_path / f"r.{fmt}", fmt, records), proof, VKEY)
    assert caught.value.row == 128
    records = _records(path, fmt)
    records[128]["seconds"] = _bump(records[128]["seconds"])
    with pytest.raises(ResultsTampered) as caught:
        verify_results(_write(tmp_path / f"r.{fmt}", fmt, records), proof, VKEY)
    assert caught.value.row == 129 and "seconds" in caught.value.reason


def test_a_newline_in_a_csv_cell_is_checked_in_order(built, tmp_path, small_spans):
    records = _records(built["folder"] / "results.csv", "csv")
    records[30]["seconds"] = "1\n2"
    path = _write(tmp_path / "results.csv", "csv", records)
    proof = str(built["folder"] / "proof.jsonl")
    size = int(built["first"].split("\n")[1])
    assert results._run_parallel(str(path), results.ResultsFormat.CSV, proof, ANSWERS, size) is None
    with pytest.raises(ResultsTampered) as caught:
        verify_results(path, proof, VKEY)
    assert caught.value.row == 31 and "seconds" in caught.value.reason


# --- making proofs ------------------------------------------------------------------------


def test_make_proof_refuses_unordered_rows_and_foreign_checkpoints(built):
    ledger, first = built["ledger"], built["first"]
    store.bind(ledger.db)
    with pytest.raises(ValueError, match="not after"):
        list(make_proof(ledger, [5, 3], first))
    size = int(first.split("\n")[1])
    with pytest.raises(ValueError, match="not after"):
        list(make_proof(ledger, [size], first))
    foreign = note.sign_note(note.format_checkpoint(ORIGIN, 3, bytes(32)), SIGNER)
    with pytest.raises(ValueError, match="not one of this ledger's"):
        list(make_proof(ledger, [1], foreign))


def test_a_proof_line_in_another_layout_names_its_row(built, tmp_path):
    lines = _proof_lines(built)
    lines[9] = json.dumps(json.loads(lines[9])) + "\n"
    with pytest.raises(ResultsTampered) as caught:
        verify_results(built["folder"] / "results.csv", _write_proof(tmp_path, lines), VKEY)
    assert caught.value.row == 9 and "malformed" in caught.value.reason


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_proofs_from_either_database_verify(request, tmp_path, backend):
    """Sparse rows read by index list, dense rows by range: both, on both databases."""
    if backend == "sqlite":
        database = peewee.SqliteDatabase(str(tmp_path / "l.db"), pragmas={"journal_mode": "wal"})
    else:
        database = peewee.PostgresqlDatabase(None)
        url = request.getfixturevalue("postgres_url")
        from playhouse.db_url import parse

        database.init(**parse(url))
    store.bind(database)
    store.create_tables()
    ledger = store.Ledger(ManualClock())
    rows = []
    with ledger.db.atomic():
        for i in range(120):
            # The first 60 answers sit among two other entries each, the rest back to back.
            for _ in range(2 if i < 60 else 0):
                ledger.append("task.completed", {"task": f"t{i}"})
            data = {"project": 1, "item": results.item_sha256(f"x{i}"), "member": "m",
                    "answer_sha256": results.answer_sha256(_answer(i)), "seconds": i,
                    "subject": f"answer:{i + 1}"}  # fmt: skip
            entry = ledger.append("answer.submitted", data)
            rows.append(results.row_for_entry(entry, f"x{i}", _answer(i), "accepted"))
    checkpoint = ledger.checkpoint(SIGNER, ORIGIN)
    indexes = [r.ledger_index for r in rows]
    assert ledger.entries_at(indexes[:60]) == [ledger.entry_bytes(i) for i in indexes[:60]]
    proof = tmp_path / "proof.jsonl"
    proof.write_bytes(b"".join(make_proof(ledger, indexes, checkpoint)))
    with open(tmp_path / "r.jsonl", "wb") as f:
        write_results(rows, "jsonl", f)
    database.close()
    assert verify_results(tmp_path / "r.jsonl", proof, VKEY).rows == 120


def test_the_trailer_must_count_the_rows_and_close_the_proof(built, tmp_path):
    lines = _proof_lines(built)
    results_csv = built["folder"] / "results.csv"
    miscounted = [*lines[:-1], lines[-1].replace('{"rows":300,', '{"rows":301,')]
    with pytest.raises(ResultsTampered) as caught:
        verify_results(results_csv, _write_proof(tmp_path, miscounted), VKEY)
    assert caught.value.row is None and "covers 301 rows" in caught.value.reason
    with pytest.raises(InvalidProof, match="trailer"):
        verify_results(results_csv, _write_proof(tmp_path, lines[:-1]), VKEY)
