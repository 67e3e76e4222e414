"""Checkpoints are C2SP signed notes that match Go's golang.org/x/mod/sumdb/note byte for byte."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from ledger import note
from ledger.note import InvalidNote, Signer, UnverifiedNote, Verifier

# Vectors from independent implementations, vendored with their licence (see vectors/README.md).
VECTORS = Path(__file__).resolve().parent / "vectors"


def _load():
    path = VECTORS / "signed-note.json"
    if not path.is_file():
        raise AssertionError(f"missing {path}: the vendored vectors are part of the repository")
    return json.loads(path.read_text(encoding="utf-8"))


DOC = _load()


@pytest.mark.parametrize("case", DOC["vectors"], ids=lambda c: c["desc"])
def test_signed_note_vectors(case):
    verifiers = [Verifier.parse(k) for k in case["verifier_keys"]]
    if case["want_valid"]:
        opened = note.open_note(case["signed_note"], verifiers)
        assert opened.text == case["text"]
        assert {s.name for s in opened.signatures} == {v.name for v in verifiers}
    else:
        with pytest.raises(InvalidNote):
            note.open_note(case["signed_note"], verifiers)


@pytest.mark.parametrize(
    "case",
    [c for c in DOC["vectors"] if c["desc"] == "signed by the log key"],
    ids=lambda c: c["text"].split("\n")[1],
)
def test_signing_reproduces_go_byte_for_byte(case):
    signer = Signer.parse(DOC["signer_key"])
    assert note.sign_note(case["text"], signer) == case["signed_note"]


def test_witness_cosignature_reproduced():
    log, witness = Signer.parse(DOC["signer_key"]), Signer.parse(DOC["witness_signer"])
    case = next(c for c in DOC["vectors"] if len(c["verifier_keys"]) == 2)
    assert note.sign_note(case["text"], log, witness) == case["signed_note"]


def test_keys_round_trip_and_match_vectors():
    signer = Signer.parse(DOC["signer_key"])
    assert str(signer.verifier) == DOC["verifier_key"]
    assert signer.secret_key_string() == DOC["signer_key"]
    skey, vkey = note.generate_signer_key("coop.test/log")
    fresh = Signer.parse(skey)
    assert str(fresh.verifier) == vkey
    assert Verifier.parse(vkey).key_id == fresh.key_id


def test_private_key_never_in_repr():
    signer = Signer.parse(DOC["signer_key"])
    secret = DOC["signer_key"].rsplit("+", 1)[1]
    assert secret not in repr(signer) and secret not in str(signer)
    assert secret not in f"{signer!r} {signer}"


def test_key_file_is_owner_only_and_never_overwritten(tmp_path):
    skey, _ = note.generate_signer_key("coop.test/log")
    path = tmp_path / "ledger.key"
    note.write_signer_key(path, skey)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert note.load_signer_key(path).secret_key_string() == skey
    with pytest.raises(FileExistsError):
        note.write_signer_key(path, skey)


GOOD = next(c for c in DOC["vectors"] if c["desc"] == "signed by the log key")["signed_note"]
LOG = Verifier.parse(DOC["verifier_key"])


@pytest.mark.parametrize(
    "bad",
    [
        GOOD[:-1],  # no final newline
        GOOD.replace("\n\n", "\n"),  # no blank line before signatures
        GOOD.replace("\u2014 ", "-- "),  # not an em dash
        GOOD.replace("\u2014 coop.example/ledger ", "\u2014 coop.example/ledger  "),
        GOOD.replace("coop.example/ledger\n0", "coop.example/ledger\t\n0"),  # control char
        GOOD + "\n",  # empty signature line
        GOOD.replace("SH0teQ", "SH0te!"),  # bad base64
        GOOD + "\u2014 coop.example/ledger AAAA\n",  # signature shorter than 5 bytes
        GOOD.encode()[:-3] + b"\xff\n",  # not UTF-8
    ],
)
def test_malformed_notes_rejected(bad):
    with pytest.raises(InvalidNote):
        note.open_note(bad, [LOG])


def test_unknown_key_only_is_unverified():
    with pytest.raises(UnverifiedNote):
        note.open_note(GOOD, [Verifier.parse(DOC["witness_verifier"])])


def test_too_many_signatures_rejected():
    witness = Signer.parse(DOC["witness_signer"])
    extra = note.sign_note("x\n", witness).split("\n\n", 1)[1]
    with pytest.raises(InvalidNote, match="more than"):
        note.open_note(GOOD + extra * note.MAX_SIGNATURES, [LOG])


def test_checkpoint_round_trip():
    signer = Signer.parse(DOC["signer_key"])
    cp = note.Checkpoint("coop.example/ledger", 8, bytes(range(32)), ("Timestamp: 1",))
    signed = note.sign_note(cp.text(), signer)
    assert note.open_checkpoint(signed, signer.verifier, "coop.example/ledger") == cp
    with pytest.raises(InvalidNote, match="origin"):
        note.open_checkpoint(signed, signer.verifier, "other.example/log")


@pytest.mark.parametrize(
    "text",
    [
        "o\n08\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "o\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "o\n1\nAAAA\n",
        "\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "o\n1\n",
    ],
)
def test_bad_checkpoints_rejected(text):
    with pytest.raises(InvalidNote):
        note.parse_checkpoint(text)


def test_key_argument_accepts_string_or_file(tmp_path):
    path = tmp_path / "log.pub"
    path.write_text(DOC["verifier_key"] + "\n")
    assert note.read_key_argument(str(path)) == LOG
    assert note.read_key_argument(DOC["verifier_key"]) == LOG
    with pytest.raises(InvalidNote):
        note.read_key_argument(str(tmp_path / "missing"))
