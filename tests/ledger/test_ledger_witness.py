"""Witnessing follows C2SP: cosignature/v1 lines match Go's vectors byte for byte, and a real
witness server (a subprocess on loopback) cosigns only checkpoints consistent with the last one
it cosigned, refuses the insider rewrite (entry changed, re-linked, re-hashed, re-signed with the
log key) and keeps the refused request, never goes backwards across a restart, and a verifier
with the policy "k of these witnesses" refuses a bundle from the rewritten log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import peewee
import pytest

from ledger import note, store
from ledger.__main__ import main as ledger_cli
from ledger.clock import ManualClock
from ledger.note import InvalidNote
from ledger.store import Ledger
from ledger.witness import (
    CosignatureSigner,
    CosignatureVerifier,
    WitnessConflict,
    WitnessError,
    add_checkpoint,
    generate_witness_key,
    parse_cosignature_line,
    verify_quorum,
)
from ledger.witness.server import Witness

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads(
    (Path(__file__).resolve().parent / "vectors" / "cosignature.json").read_text("utf-8")
)
ORIGIN = "coop.test/witnessed"


@pytest.mark.parametrize("case", VECTORS["vectors"], ids=lambda c: c["desc"])
def test_cosignature_vectors(case):
    witness = CosignatureVerifier.parse(VECTORS["witness_vkey"])
    if case["want_valid"]:
        assert witness.verify(case["checkpoint_body"], case["signature_line"]) == case["timestamp"]
    else:
        with pytest.raises(InvalidNote):
            witness.verify(case["checkpoint_body"], case["signature_line"])


@pytest.mark.parametrize(
    "case", [c for c in VECTORS["vectors"] if c["want_valid"]], ids=lambda c: c["desc"]
)
def test_signing_reproduces_the_vectors_byte_for_byte(case):
    signer = CosignatureSigner(VECTORS["witness_name"], bytes.fromhex(VECTORS["witness_seed_hex"]))
    assert str(signer.verifier) == VECTORS["witness_vkey"]
    line = signer.cosign(case["checkpoint_body"], case["timestamp"]).line()
    assert line == case["signature_line"]
    assert CosignatureSigner.parse(signer.secret_key_string()).verifier == signer.verifier


def test_quorum_counts_distinct_listed_witnesses_only():
    body = VECTORS["vectors"][0]["checkpoint_body"]
    a = CosignatureSigner.parse(generate_witness_key("w.test/a")[0])
    b = CosignatureSigner.parse(generate_witness_key("w.test/b")[0])
    stranger = CosignatureSigner.parse(generate_witness_key("w.test/c")[0])
    lines = [a.cosign(body).line(), a.cosign(body).line(), stranger.cosign(body).line()]
    keys = [a.verifier, b.verifier]
    assert verify_quorum(body, lines, keys, 1) == ["w.test/a"]
    with pytest.raises(InvalidNote, match="1 of the 2"):
        verify_quorum(body, lines, keys, 2)
    other_body = body.replace("\n8\n", "\n9\n")
    with pytest.raises(InvalidNote, match="invalid cosignature"):
        verify_quorum(other_body, lines, keys, 1)


def _log(path: Path, entries: list[dict]) -> tuple[peewee.Database, Ledger]:
    """Build a ledger of these entries in its own SQLite file; return it, bound."""
    database = peewee.SqliteDatabase(str(path), pragmas={"journal_mode": "wal"})
    store.bind(database)
    store.create_tables()
    ledger = Ledger(ManualClock())
    for data in entries:
        ledger.append("delivery.submitted", data)
    return database, ledger


def _entries(n: int, changed: int | None = None) -> list[dict]:
    return [
        {"delivery": f"d{i}", "sha256": f"{(i + 1000 if i == changed else i):064x}"}
        for i in range(n)
    ]


@pytest.fixture
def witness_process(tmp_path):
    """Start `python -m ledger witness serve` on a free loopback port; yield a starter."""
    log_key, log_vkey = note.generate_signer_key(ORIGIN)
    key_file = tmp_path / "witness.key"
    out = subprocess.run(
        [sys.executable, "-m", "ledger", "witness", "keygen", "w.test/one", "--out", key_file],
        capture_output=True,
        text=True,
        check=True,
        env=_env(),
        cwd=tmp_path,
    )
    witness_vkey = CosignatureVerifier.parse(out.stdout)
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    procs = []

    def start():
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ledger",
                "witness",
                "serve",
                "--key",
                key_file,
                "--db",
                tmp_path / "witness.db",
                "--log",
                log_vkey,
                "--port",
                "0",
            ],
            stdout=subprocess.PIPE,
            text=True,
            env=_env(),
            cwd=tmp_path,
        )
        procs.append(proc)
        line = proc.stdout.readline()
        assert "listening on" in line, line
        return line.rsplit(" ", 1)[1].strip()

    def stop():
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
            proc.stdout.close()
        procs.clear()

    yield note.Signer.parse(log_key), witness_vkey, start, stop, tmp_path / "witness.db"
    stop()


def _env():
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_witness_cosigns_growth_and_refuses_the_insider_rewrite(tmp_path, witness_process):
    log_key, witness_vkey, start, stop, witness_db = witness_process
    url = start()
    honest_db, honest = _log(tmp_path / "honest.db", _entries(16))
    note_16 = honest.checkpoint(log_key, ORIGIN)
    line = add_checkpoint(url, 0, [], note_16)
    body_16 = note_16[: note_16.index("\n\n") + 1]
    assert witness_vkey.verify(body_16, line) > 0
    # The same checkpoint again is cosigned again (an idempotent retry).
    assert witness_vkey.verify(body_16, add_checkpoint(url, 16, [], note_16))
    # A stale old size is answered with the size the witness holds.
    with pytest.raises(WitnessConflict) as conflict:
        add_checkpoint(url, 0, [], note_16)
    assert conflict.value.size == 16
    honest.append("delivery.submitted", {"delivery": "d16", "sha256": "f" * 64})
    note_17 = honest.checkpoint(log_key, ORIGIN)
    proof = list(honest.consistency_proof(16, 17).hashes)
    line_17 = add_checkpoint(url, 16, proof, note_17)
    witness_vkey.verify(note_17[: note_17.index("\n\n") + 1], line_17)
    honest_bundle = honest.bundle(3, checkpoint=note_17 + line_17, verifier=log_key.verifier)
    honest.export(tmp_path / "honest-export")
    (tmp_path / "honest-export" / "checkpoint").write_text(note_17 + line_17, encoding="utf-8")
    honest_db.close()

    # The insider: entry 8 changed, everything after re-linked and re-hashed, re-signed.
    forged_db, forged = _log(tmp_path / "forged.db", _entries(20, changed=8))
    forged_note = forged.checkpoint(log_key, ORIGIN)
    forged_proof = list(forged.consistency_proof(17, 20).hashes)
    with pytest.raises(WitnessError) as refused:
        add_checkpoint(url, 17, forged_proof, forged_note)
    assert refused.value.status == 422
    forged_bundle = forged.bundle(3, checkpoint=forged_note, verifier=log_key.verifier)
    forged.export(tmp_path / "forged-export")
    # Nor is a same-size rewrite cosigned.
    forged_db.close()
    same_db, forged_17 = _log(tmp_path / "same.db", _entries(17, changed=8))
    with pytest.raises(WitnessError) as forked:
        add_checkpoint(url, 17, [], forged_17.checkpoint(log_key, ORIGIN))
    assert forked.value.status == 409
    same_db.close()
    stop()

    # Restarted on the same state: it still holds size 17 and the refusals as evidence.
    url = start()
    with pytest.raises(WitnessConflict) as after:
        add_checkpoint(url, 0, [], note_16)
    assert after.value.size == 17
    witness = Witness(
        CosignatureSigner.parse(generate_witness_key("w.test/reader")[0]), witness_db, []
    )
    evidence = witness.refusals()
    assert [r.status for r in evidence] == [409, 422, 409, 409]
    assert forged_note.encode() in evidence[1].request
    assert "not consistent with size 17" in evidence[1].reason

    # A client's verifier with the policy "1 of these witnesses" tells the two bundles apart;
    # the log's key alone cannot.
    policy = ["--key", str(log_key.verifier), "--witness", str(witness_vkey), "--quorum", "1"]
    for name, bundle in [("honest", honest_bundle), ("forged", forged_bundle)]:
        (tmp_path / f"{name}.json").write_text(json.dumps(bundle), encoding="utf-8")
        assert ledger_cli(["verify-bundle", str(tmp_path / f"{name}.json"), *policy[:2]]) == 0
    assert ledger_cli(["verify-bundle", str(tmp_path / "honest.json"), *policy]) == 0
    assert ledger_cli(["verify-bundle", str(tmp_path / "forged.json"), *policy]) == 1
    assert ledger_cli(["verify-export", str(tmp_path / "forged-export"), *policy[:2]]) == 0
    assert ledger_cli(["verify-export", str(tmp_path / "honest-export"), *policy]) == 0
    assert ledger_cli(["verify-export", str(tmp_path / "forged-export"), *policy]) == 1
    assert (
        ledger_cli(["verify-bundle", str(tmp_path / "honest.json"), *policy[:4], "--quorum", "2"])
        == 2
    )


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 400),
        (b"old 01\n\nx", 400),
        (b"old 0\nnot-base64\n\ncoop.test/witnessed\n1\n", 400),
        (b"old 0\n\nunknown.test/log\n1\nAAAA\n\n\xe2\x80\x94 x AAAA\n", 404),
        (b"\xff\xfe", 400),
    ],
)
def test_malformed_requests_are_refused_and_kept(tmp_path, body, status):
    signer = CosignatureSigner.parse(generate_witness_key("w.test/one")[0])
    log = note.Signer.parse(note.generate_signer_key(ORIGIN)[0])
    witness = Witness(signer, tmp_path / "w.db", [log.verifier])
    assert witness.add_checkpoint(body).status == status
    assert witness.refusals()[0].request == body
    assert witness.latest(ORIGIN) is None


def test_a_checkpoint_signed_by_another_key_is_forbidden(tmp_path):
    signer = CosignatureSigner.parse(generate_witness_key("w.test/one")[0])
    log = note.Signer.parse(note.generate_signer_key(ORIGIN)[0])
    impostor = note.Signer.parse(note.generate_signer_key(ORIGIN)[0])
    witness = Witness(signer, tmp_path / "w.db", [log.verifier])
    text = note.format_checkpoint(ORIGIN, 1, b"\x01" * 32)
    response = witness.add_checkpoint(b"old 0\n\n" + note.sign_note(text, impostor).encode())
    assert response.status == 403
    good = witness.add_checkpoint(b"old 0\n\n" + note.sign_note(text, log).encode())
    assert good.status == 200
    parse_cosignature_line(good.body.decode())


def test_the_http_server_answers_only_post_add_checkpoint(tmp_path):
    import http.client
    import threading

    from ledger.witness.server import make_server

    signer = CosignatureSigner.parse(generate_witness_key("w.test/one")[0])
    server = make_server(Witness(signer, tmp_path / "w.db", []))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        answers = []
        for method, path, body in [
            ("GET", "/add-checkpoint", None),
            ("POST", "/other", b"old 0\n\n"),
            ("POST", "/add-checkpoint", b"x" * (70 * 1024)),
            ("POST", "/add-checkpoint", b"old 0\n\nnobody\n1\n"),
        ]:
            conn = http.client.HTTPConnection(host, port, timeout=10)
            conn.request(method, path, body=body)
            response = conn.getresponse()
            answers.append(response.status)
            response.read()
            conn.close()
        assert answers == [405, 404, 413, 404]  # the last: a log it does not witness
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
