"""Exports and receipt bundles verify offline (no flask, coop or database) and name bad entries."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import note, verify
from ledger.entry import GENESIS_PREV, TimeBlock, TimeSource, encode_entry
from ledger.merkle import InvalidProof, leaf_hash
from ledger.verify import ChainChecker, LedgerTampered, verify_export

ORIGIN = "coop.test/verify"
SIGNER = note.Signer.parse(note.generate_signer_key(ORIGIN)[0])
VKEY = str(SIGNER.verifier)


def write_export(folder: Path, n: int, signer=SIGNER) -> list[bytes]:
    """Build an export of n entries directly, the way Ledger.export lays it out."""
    folder.mkdir(parents=True, exist_ok=True)
    prev, raws, checker = GENESIS_PREV, [], ChainChecker()
    for i in range(n):
        time = TimeBlock(1_763_800_000_000_000_000 + i, 1_000_000, True, ())
        raw = encode_entry(i, "task.completed", prev, time, {"task": f"t{i}"}).raw
        checker.add(raw)
        raws.append(raw)
        prev = leaf_hash(raw)
    with open(folder / "entries.bin", "wb") as f:
        for raw in raws:
            f.write(struct.pack(">I", len(raw)) + raw)
    text = note.format_checkpoint(ORIGIN, n, checker.root())
    (folder / "checkpoint").write_text(note.sign_note(text, signer))
    return raws


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ledger", *args], capture_output=True, text=True, check=False
    )


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def entry_offset(raws: list[bytes], index: int, within: int) -> int:
    return sum(4 + len(r) for r in raws[:index]) + 4 + within


def test_cli_verifies_an_export_and_names_the_first_bad_entry(tmp_path):
    raws = write_export(tmp_path / "ok", 40)
    done = run_cli("verify-export", str(tmp_path / "ok"), "--key", VKEY)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK: 40 entries")
    path = tmp_path / "ok" / "entries.bin"
    flip(path, entry_offset(raws, 17, 12))
    done = run_cli("verify-export", str(tmp_path / "ok"), "--key", VKEY)
    assert done.returncode == 1
    assert done.stderr.startswith(
        "FAILED: tampered at index 18: prev does not match the leaf hash of entry 17"
    )


def test_cli_key_from_file_and_wrong_key(tmp_path):
    write_export(tmp_path / "e", 3)
    keyfile = tmp_path / "log.pub"
    keyfile.write_text(VKEY + "\n")
    assert run_cli("verify-export", str(tmp_path / "e"), "--key", str(keyfile)).returncode == 0
    other = note.generate_signer_key(ORIGIN)[1]
    done = run_cli("verify-export", str(tmp_path / "e"), "--key", other)
    assert done.returncode == 1 and "not signed" in done.stderr


def test_verifier_imports_no_app_database_or_ntp(tmp_path):
    write_export(tmp_path / "e", 3)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "ledger", "verify-export", str(tmp_path / "e")]
        + ["--key", VKEY],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    forbidden = {m for m in modules if m.split(".")[0] in {"flask", "coop", "peewee", "ntplib"}}
    assert not forbidden


@pytest.mark.parametrize(
    ("case", "index"),
    [("last-entry-dropped", 29), ("entry-appended", 30), ("index-changed", 5), ("time", 9)],
)
def test_structural_tampering_is_named(tmp_path, case, index):
    raws = write_export(tmp_path / "e", 30)
    if case == "last-entry-dropped":
        data = b"".join(struct.pack(">I", len(r)) + r for r in raws[:-1])
    elif case == "entry-appended":
        data = b"".join(struct.pack(">I", len(r)) + r for r in raws + [raws[-1]])
    elif case == "index-changed":
        raws[5] = raws[5].replace(b'"index":5,', b'"index":6,')
        data = b"".join(struct.pack(">I", len(r)) + r for r in raws)
    else:
        raws[9] = raws[9].replace(
            b'"unix_ns":1763800000000000009', b'"unix_ns":1763800000000000001'
        )
        data = b"".join(struct.pack(">I", len(r)) + r for r in raws)
    (tmp_path / "e" / "entries.bin").write_bytes(data)
    with pytest.raises(LedgerTampered) as caught:
        verify_export(tmp_path / "e", SIGNER.verifier)
    assert caught.value.index == index


@pytest.mark.parametrize("bad", [0, 31, 32, 33, 64, 100, 299])
def test_parallel_path_agrees_with_sequential(tmp_path, monkeypatch, bad):
    raws = write_export(tmp_path / "e", 300)
    monkeypatch.setattr(verify, "_CHUNK_LOG2", 5)
    monkeypatch.setattr(verify, "_PARALLEL_MIN", 10)
    assert verify_export(tmp_path / "e", SIGNER.verifier).size == 300
    flip(tmp_path / "e" / "entries.bin", entry_offset(raws, bad, 20))
    with pytest.raises(LedgerTampered) as parallel:
        verify_export(tmp_path / "e", SIGNER.verifier)
    monkeypatch.setattr(verify, "_PARALLEL_MIN", 10**9)
    with pytest.raises(LedgerTampered) as sequential:
        verify_export(tmp_path / "e", SIGNER.verifier)
    # A changed entry shows as a broken link in the next one (or a wrong root at the end).
    assert parallel.value.index == sequential.value.index == min(bad + 1, 299)


def test_strict_mode_decodes_every_entry(tmp_path):
    raws = write_export(tmp_path / "e", 5)
    assert verify_export(tmp_path / "e", SIGNER.verifier, strict=True).size == 5
    # Same length, still fits the envelope grammar, but data is no longer valid.
    raws[2] = raws[2].replace(b'"task":"t2"', b'"task":"t\\"')
    data = b"".join(struct.pack(">I", len(r)) + r for r in raws)
    (tmp_path / "e" / "entries.bin").write_bytes(data)
    with pytest.raises(LedgerTampered) as caught:
        verify_export(tmp_path / "e", SIGNER.verifier, strict=True)
    assert caught.value.index == 2


def _bundle(raws, index, size, file_hash=None):
    from ledger.merkle import inclusion_proof, stored_hashes_for_leaf

    hashes: list[bytes] = []

    def read(indexes):
        return [hashes[j] for j in indexes]

    for i, raw in enumerate(raws[:size]):
        hashes += stored_hashes_for_leaf(i, leaf_hash(raw), read)
    proof = inclusion_proof(index, size, read)
    checker = ChainChecker()
    for raw in raws[:size]:
        checker.add(raw)
    cp = note.sign_note(note.format_checkpoint(ORIGIN, size, checker.root()), SIGNER)
    return {
        "format": verify.BUNDLE_FORMAT,
        "index": index,
        "size": size,
        "entry": base64.b64encode(raws[index]).decode(),
        "inclusion": {
            "index": index,
            "size": size,
            "leaf_hash": base64.b64encode(leaf_hash(raws[index])).decode(),
            "hashes": [base64.b64encode(h).decode() for h in proof],
        },
        "checkpoint": cp,
        "verifier_key": VKEY,
    }


def test_cli_verifies_a_bundle_and_a_file(tmp_path):
    upload = tmp_path / "delivery.pdf"
    upload.write_bytes(b"%PDF- the work")
    digest = hashlib.sha256(upload.read_bytes()).hexdigest()
    prev, raws = GENESIS_PREV, []
    for i in range(9):
        data = {"delivery": f"d{i}", "files": [{"sha256": digest if i == 6 else f"{i:064x}"}]}
        time = TimeBlock(1_763_800_000_000_000_000 + i, 1_000_000, True, ())
        raw = encode_entry(i, "delivery.submitted", prev, time, data).raw
        raws.append(raw)
        prev = leaf_hash(raw)
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(_bundle(raws, 6, 9)))
    done = run_cli("verify-bundle", str(path), "--key", VKEY, "--file", str(upload))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK: entry 6") and digest in done.stdout
    other = tmp_path / "other.pdf"
    other.write_bytes(b"something else")
    done = run_cli("verify-bundle", str(path), "--key", VKEY, "--file", str(other))
    assert done.returncode == 1 and "FAILED: tampered at index 6" in done.stderr
    bad = _bundle(raws, 6, 9)
    bad["inclusion"]["hashes"][0] = base64.b64encode(bytes(32)).decode()
    path.write_text(json.dumps(bad))
    assert run_cli("verify-bundle", str(path), "--key", VKEY).returncode == 1


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_tiny_exports_verify(tmp_path, n):
    write_export(tmp_path / "e", n)
    assert verify_export(tmp_path / "e", SIGNER.verifier).size == n


def test_missing_export_fails_cleanly(tmp_path):
    done = run_cli("verify-export", str(tmp_path / "nowhere"), "--key", VKEY)
    assert done.returncode == 1 and done.stderr.startswith("FAILED:")



@pytest.mark.parametrize("field", ["index", "size"])
def test_bundle_whose_top_level_fields_disagree_is_refused(field):
    """The bundle's own index and size must be its proof's, so nobody reading it is misled."""
    prev, raws = GENESIS_PREV, []
    for i in range(5):
        time = TimeBlock(1_763_800_000_000_000_000 + i, 1_000_000, True, ())
        raw = encode_entry(i, "task.completed", prev, time, {"task": i}).raw
        raws.append(raw)
        prev = leaf_hash(raw)
    bundle = _bundle(raws, 2, 5)
    verify.verify_bundle(bundle, note.Verifier.parse(VKEY))
    forged = dict(bundle, **{field: bundle[field] + 1})
    with pytest.raises(InvalidProof, match="differ"):
        verify.verify_bundle(forged, note.Verifier.parse(VKEY))


def _checked(raws: list[bytes], fast: bool):
    """Return what a checker makes of raws: (size, root) or (bad index, reason)."""
    checker = ChainChecker()
    try:
        if fast:
            checker.scan(b"".join(struct.pack(">I", len(r)) + r for r in raws))
        else:
            for raw in raws:
                checker.add(raw)
    except LedgerTampered as exc:
        return ("bad", exc.index, exc.reason)
    return ("ok", checker.size, checker.root())


_SOURCES = st.lists(
    st.builds(
        TimeSource,
        server=st.from_regex(r"[a-z0-9.:-]{0,20}", fullmatch=True),
        stratum=st.integers(0, 15),
        offset_ns=st.integers(-(10**12), 10**12),
        delay_ns=st.integers(0, 10**9),
        root_distance_ns=st.integers(0, 10**9),
        age_ms=st.integers(0, 10**7),
    ),
    max_size=3,
)


@settings(max_examples=150, deadline=None)
@given(
    sources=_SOURCES,
    # Data may itself hold an "index" key: only the top-level one counts.
    data=st.dictionaries(st.sampled_from(["index", "kind", "v", "task"]), st.integers(0, 99)),
    flip_at=st.integers(0, 10_000),
    bit=st.integers(0, 7),
)
def test_fast_scan_agrees_with_entry_by_entry_checks(sources, data, flip_at, bit):
    prev, raws = GENESIS_PREV, []
    for i in range(3):
        time = TimeBlock(1_763_800_000_000_000_000 + i, 1_000_000, True, tuple(sources))
        raws.append(encode_entry(i, "task.completed", prev, time, data).raw)
        prev = leaf_hash(raws[-1])
    assert _checked(raws, fast=True) == _checked(raws, fast=False)
    assert _checked(raws, fast=True)[0] == "ok"
    # One flipped bit anywhere: both ways must blame the same entry for the same reason.
    bad = bytearray(raws[1])
    bad[flip_at % len(bad)] ^= 1 << bit
    raws[1] = bytes(bad)
    assert _checked(raws, fast=True) == _checked(raws, fast=False)


def test_cli_names_a_checkpoint_that_is_not_utf8_as_tampering(tmp_path):
    write_export(tmp_path / "e", 5)
    path = tmp_path / "e" / "checkpoint"
    data = bytearray(path.read_bytes())
    data[3] = 0xFF  # inside the origin line: no UTF-8 text has this byte
    path.write_bytes(bytes(data))
    done = run_cli("verify-export", str(tmp_path / "e"), "--key", VKEY)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("FAILED: tampered at index 4: checkpoint is not UTF-8 text")


def _reoriginated(cp_note: str, origin: str, signer=SIGNER) -> str:
    """The same tree, re-signed by the log's own key under another origin line."""
    body = cp_note.split("\n\n")[0] + "\n"
    return note.sign_note(origin + body[body.index("\n"):], signer)


def test_a_checkpoint_resigned_with_another_origin_is_refused(tmp_path):
    """The log key's signature over another origin is not this log's checkpoint (C2SP)."""
    write_export(tmp_path / "e", 5)
    cp = tmp_path / "e" / "checkpoint"
    cp.write_text(_reoriginated(cp.read_text(), "other.example/log"))
    done = run_cli("verify-export", str(tmp_path / "e"), "--key", VKEY)
    assert done.returncode == 1
    assert "origin is 'other.example/log', expected 'coop.test/verify'" in done.stderr
    # Naming the origin explicitly is the other way to state what is expected.
    done = run_cli("verify-export", str(tmp_path / "e"), "--key", VKEY, "--origin", ORIGIN)
    assert done.returncode == 1 and "origin" in done.stderr
    with pytest.raises(note.InvalidNote, match="origin"):
        verify_export(tmp_path / "e", SIGNER.verifier)


def test_a_bundle_whose_checkpoint_names_another_origin_is_refused(tmp_path):
    raws, prev = [], GENESIS_PREV
    for i in range(3):
        time = TimeBlock(1_763_800_000_000_000_000 + i, 1_000_000, True, ())
        raw = encode_entry(i, "task.completed", prev, time, {"task": f"t{i}"}).raw
        raws.append(raw)
        prev = leaf_hash(raw)
    bundle = _bundle(raws, 1, 3)
    assert verify.verify_bundle(bundle, SIGNER.verifier).index == 1
    bundle["checkpoint"] = _reoriginated(bundle["checkpoint"], "other.example/log")
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle))
    done = run_cli("verify-bundle", str(path), "--key", VKEY)
    assert done.returncode == 1 and "origin" in done.stderr


def test_after_a_rotation_both_keys_verify(tmp_path):
    """Checkpoints signed by the old key stay verifiable when the verifier is given both keys,
    as --key twice or as one file listing them (the app's /ledger/keys)."""
    new = note.Signer.parse(note.generate_signer_key(ORIGIN)[0])
    write_export(tmp_path / "old", 4)
    write_export(tmp_path / "new", 6, signer=new)
    keys = tmp_path / "keys.txt"
    keys.write_text(f"{new.verifier}\n{VKEY}\n")
    for folder in ("old", "new"):
        done = run_cli("verify-export", str(tmp_path / folder), "--key", str(keys))
        assert done.returncode == 0, done.stderr
        both = ["--key", str(new.verifier), "--key", VKEY]
        assert run_cli("verify-export", str(tmp_path / folder), *both).returncode == 0
    done = run_cli("verify-export", str(tmp_path / "old"), "--key", str(new.verifier))
    assert done.returncode == 1 and "not signed" in done.stderr
