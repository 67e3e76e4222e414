"""`python -m ledger monitor` (and `coop ledger monitor`) watches the app over real HTTP: it
fetches the checkpoint and the public tiles, checks the signature, the origin and the
witnesses' cosignatures, and that the tree extends the one it saw last (kept in a state file,
replaced atomically). The insider rewrite — entry 8 changed, the rest re-linked and re-hashed,
re-signed with the log's own key, the tiles rewritten to match — is caught, the state is left
as it was and the refused checkpoint is kept as evidence. A key swapped without a handover is
refused; a rotation's handover teaches the monitor the new key."""

import json
import shutil
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from coop.audit import events, keys
from coop.audit import ledger as app_ledger
from coop.audit.tiles import tiles_dir
from coop.db import database, write_transaction
from ledger.merkle import stored_hash_index
from ledger.note import generate_signer_key
from ledger.store import Ledger
from ledger.witness import CosignatureSigner, generate_witness_key
from ledger.witness.server import Witness
from ledger.witness.server import make_server as make_witness_server

ROOT = Path(__file__).resolve().parent.parent


def _record(n: int, start: int = 0) -> None:
    with write_transaction():
        for i in range(start, start + n):
            events.record("test.monitor", f"test:{i}", n=i)


@contextmanager
def _served(app_or_server):
    """Serve the app (or a ready server) on a loopback port; yield its base URL."""
    server = app_or_server
    if not hasattr(server, "serve_forever"):
        server = make_server("127.0.0.1", 0, app_or_server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _monitor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ledger", "monitor", *args], capture_output=True, text=True,
        check=False, cwd=ROOT,
    )


def _sql(statement: str, *params) -> None:
    database.execute_sql(statement.replace("?", database.param), params)


def _rewrite_history(app, changed: int) -> None:
    """The insider: change entry `changed`, re-append everything after it (re-linked and
    re-hashed), re-sign with the log's key and write the tiles again to match."""
    size = app_ledger.get_ledger().size()
    with write_transaction():
        _sql("DELETE FROM ledger_checkpoint WHERE size > ?", changed)
        _sql("DELETE FROM ledger_hash WHERE stored_index >= ?", stored_hash_index(0, changed))
        _sql("DELETE FROM ledger_entry WHERE idx >= ?", changed)
    forged = Ledger(None)  # no cached hashes of the honest tree
    app.extensions["coop_ledger"]["ledger"] = forged
    with write_transaction():
        for i in range(changed, size):
            forged.append("test.monitor", {"subject": f"test:{i}", "n": i + 1000 * (i == changed)})
    shutil.rmtree(tiles_dir())
    app.extensions.pop("coop_tiles", None)
    app_ledger.publish_outside(app_ledger.publish_checkpoint())


def test_the_monitor_follows_growth_and_catches_the_insider_rewrite(app, tmp_path):
    _record(300)  # more than one full tile
    watch = tmp_path / "watch"
    state = watch / "state.json"
    vkey = app_ledger.verifier_key()
    with _served(app) as base:
        done = _monitor(f"{base}/ledger", "--state", str(state), "--key", vkey)
        assert done.returncode == 0, done.stderr
        assert "first seen" in done.stdout and "consistent" in done.stdout
        assert "TSA tokens: none published yet" in done.stdout
        first = json.loads(state.read_text())
        assert first["size"] == app_ledger.latest_checkpoint().size and first["keys"] == [vkey]

        _record(40, start=300)
        done = _monitor(base, "--state", str(state))  # the site's root works too
        assert done.returncode == 0, done.stderr
        assert f"grew from {first['size']}" in done.stdout
        seen = state.read_bytes()
        assert [p.name for p in watch.iterdir()] == ["state.json"]  # no temporary left

        _rewrite_history(app, changed=8)
        done = _monitor(base, "--state", str(state))
        assert done.returncode == 1
        assert done.stderr.startswith("ALARM: the checkpoint of size ")
        assert "is not consistent with the size" in done.stderr
        assert state.read_bytes() == seen  # what it saw stays what it saw
        evidence = json.loads((watch / "state.json.alarm").read_text())
        assert evidence["checkpoint"] == app_ledger.latest_checkpoint().note
        # The forged log is well-formed on its own: only the memory of the old tree catches it.
        fresh = _monitor(base, "--state", str(watch / "fresh.json"), "--key", vkey)
        assert fresh.returncode == 0, fresh.stderr
        # Still refused on the next run (the forged log has the same size: a fork).
        assert _monitor(base, "--state", str(state)).returncode == 1


def test_a_log_that_shrank_is_refused(app, tmp_path):
    _record(10)
    state = str(tmp_path / "watch" / "state.json")
    with _served(app) as base:
        assert _monitor(base, "--state", state).returncode == 0
        with write_transaction():
            _sql("DELETE FROM ledger_checkpoint WHERE size > ?", 5)
            _sql("DELETE FROM ledger_hash WHERE stored_index >= ?", stored_hash_index(0, 5))
            _sql("DELETE FROM ledger_entry WHERE idx >= ?", 5)
        app.extensions["coop_ledger"]["ledger"] = Ledger(None)
        app_ledger.publish_checkpoint()
        done = _monitor(base, "--state", state)
    assert done.returncode == 1
    assert "ALARM: the log shrank: size 5, " in done.stderr


def test_coop_ledger_monitor_keeps_its_state_in_the_instance_folder(app, runner):
    _record(3)
    with _served(app) as base:
        result = runner.invoke(args=["ledger", "monitor", f"{base}/ledger"])
        assert result.exit_code == 0, result.output
        assert "first seen" in result.output and "Trusting the key" in result.output
        host = base.removeprefix("http://").replace(":", "_")
        assert (Path(app.config["INSTANCE_DIR"]) / "monitor" / f"{host}.json").exists()
        _rewrite_history(app, changed=1)
        result = runner.invoke(args=["ledger", "monitor", f"{base}/ledger"])
    assert result.exit_code == 1


def test_a_swapped_key_is_refused_and_a_rotation_is_learned(app, runner, tmp_path):
    _record(3)
    state = str(tmp_path / "state.json")
    with _served(app) as base:
        assert _monitor(base, "--state", state).returncode == 0
        result = runner.invoke(args=["ledger", "rotate-key", "--yes"])
        assert result.exit_code == 0, result.output
        done = _monitor(base, "--state", state)
        assert done.returncode == 0, done.stderr
        assert "Learned the log's new key" in done.stdout
        _record(2, start=3)  # signed by the new key only
        assert _monitor(base, "--state", state).returncode == 0

        # Another key without a handover (the old private key is gone, say, or stolen data
        # re-signed elsewhere): refused.
        path = keys.key_file(app)
        path.unlink()
        path.write_text(generate_signer_key(app.config["LEDGER_ORIGIN"])[0] + "\n")
        app.extensions["coop_ledger"]["signer"] = None
        _record(1, start=5)
        done = _monitor(base, "--state", state)
        assert done.returncode == 1
        assert "ALARM: checkpoint refused: note is not signed by any known key" in done.stderr


def test_a_witness_quorum_is_checked_on_each_run(app, tmp_path):
    signer = CosignatureSigner.parse(generate_witness_key("witness.test/w1")[0])
    state = Witness(signer, tmp_path / "witness.db", [app_ledger.signer().verifier])
    watch = str(tmp_path / "watch" / "state.json")
    policy = ("--witness", str(signer.verifier), "--quorum", "1")
    with _served(make_witness_server(state)) as url, _served(app) as base:
        app.config["WITNESSES"] = f"{signer.verifier} {url}"
        try:
            _record(3)
            done = _monitor(base, "--state", watch, *policy)
            assert done.returncode == 0, done.stderr
            assert "Cosigned by witness.test/w1 (1 required)" in done.stdout
            app.config["WITNESSES"] = ""  # the log stops asking its witness
            _record(1, start=3)
            done = _monitor(base, "--state", watch, *policy)
        finally:
            app.config["WITNESSES"] = ""
    assert done.returncode == 1
    assert "0 of the 1 witness cosignatures required" in done.stderr


def test_policies_origin_and_an_unreachable_log(app, tmp_path):
    _record(2)
    witness = generate_witness_key("witness.test/w1")[1]
    with _served(app) as base:
        done = _monitor(base, "--state", str(tmp_path / "w.json"), "--witness", witness)
        assert done.returncode == 1
        assert "0 of the 1 witness cosignatures required" in done.stderr
        assert not (tmp_path / "w.json").exists()
        done = _monitor(base, "--state", str(tmp_path / "o.json"), "--origin", "other/log")
        assert done.returncode == 1 and "origin" in done.stderr
        assert _monitor(base, "--state", str(tmp_path / "ok.json")).returncode == 0
        other = f"{base}/other"
        done = _monitor(other, "--state", str(tmp_path / "ok.json"))
        assert done.returncode == 1 and "watches" in done.stderr
    done = _monitor(base, "--state", str(tmp_path / "ok.json"))
    assert done.returncode == 3 and "cannot fetch the log" in done.stderr
    (tmp_path / "bad.json").write_text("{}")
    done = _monitor(base, "--state", str(tmp_path / "bad.json"))
    assert done.returncode == 1 and "not a monitor state" in done.stderr


@pytest.mark.parametrize("url", ["ftp://x/ledger", "not a url"])
def test_a_bad_url_is_bad_usage(tmp_path, url):
    done = _monitor(url, "--state", str(tmp_path / "s.json"))
    assert done.returncode == 2


def test_the_monitor_verifies_the_published_time_stamps_and_refuses_an_altered_one(
    app, tsa, tmp_path
):
    from coop.models import CheckpointTimestamp

    _files, _server, url = tsa
    app.config.update(TSA_URLS=url, TSA_INTERVAL=0)
    try:
        _record(5)
        _record(3, start=5)
    finally:
        app.config.update(TSA_URLS="", TSA_INTERVAL=60)
    stamps = list(CheckpointTimestamp.select().order_by(CheckpointTimestamp.size))
    assert [s.size for s in stamps] == [5, 8]
    state = str(tmp_path / "watch" / "state.json")
    vkey = app_ledger.verifier_key()
    with _served(app) as base:
        done = _monitor(base, "--state", state, "--key", vkey)
        assert done.returncode == 0, done.stderr
        assert "TSA tokens: 2 verified; the latest, by " in done.stdout
        assert "bounds the first 8 entries" in done.stdout

        token = bytearray(stamps[0].token)
        token[-40] ^= 0x01  # inside the signature
        CheckpointTimestamp.update(token=bytes(token)).where(
            CheckpointTimestamp.id == stamps[0].id
        ).execute()
        done = _monitor(base, "--state", state)
        assert done.returncode == 1
        assert done.stderr.startswith("ALARM: time-stamps refused: time-stamp 1 (size 5)")
