"""The write side publishes the ledger outside the coop: after each checkpoint its hash tiles are
written as files, served publicly over HTTP with the spec's cache headers, and rebuild the
checkpoint's root; each configured witness (a real one on loopback) cosigns the checkpoint with
a consistency proof from the size it last cosigned, /ledger/checkpoint carries the cosignatures,
delivery bundles and exports carry them for a verifier's "k of these witnesses" policy, and a
witness that is down fails nothing: `coop tick` gets its cosignature later."""

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server

from coop.audit import events
from coop.audit import ledger as app_ledger
from coop.audit.tiles import tiles_dir
from coop.db import database, is_sqlite, write_transaction
from coop.models import WitnessCosignature
from ledger.note import InvalidNote, open_checkpoint, parse_checkpoint
from ledger.tiles import root_from_tiles
from ledger.verify import verify_bundle, verify_export
from ledger.witness import CosignatureSigner, generate_witness_key, verify_quorum
from ledger.witness.server import Witness
from ledger.witness.server import make_server as make_witness_server


def _record(n: int) -> None:
    with write_transaction():
        for i in range(n):
            events.record("test.public", f"test:{i}", n=i)


@contextmanager
def _serving(server):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback test
        return response.read(), response.headers


def _files(folder) -> dict:
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_tiles_written_on_publication_rebuild_the_root_over_http(app):
    _record(300)
    checkpoint = app_ledger.latest_checkpoint()
    assert checkpoint.size >= 300
    folder = tiles_dir()
    assert (folder / "tile/0/000").stat().st_size == 256 * 32
    before = _files(folder)
    with _serving(make_server("127.0.0.1", 0, app, threaded=True)) as base:
        fetched = {}

        def fetch(path):
            body, headers = _get(f"{base}/ledger/tile/{path.removeprefix('tile/')}")
            fetched[path] = headers["Cache-Control"]
            return body

        root = root_from_tiles(checkpoint.size, fetch)
        assert len(fetch("tile/0/000")) == 256 * 32  # the right edge's reader skips it
        note, _headers = _get(f"{base}/ledger/checkpoint")
        for bad in ["0/001", "0/1", "0/000.p/0", "entries/000", "99/000", "0/x000/000"]:
            with pytest.raises(urllib.error.HTTPError) as missing:
                _get(f"{base}/ledger/tile/{bad}")
            assert missing.value.code == 404
            missing.value.close()
    signed = open_checkpoint(note, app_ledger.signer().verifier, app_ledger.origin())
    assert signed.size == checkpoint.size and signed.root == root
    assert fetched["tile/0/000"] == "public, max-age=31536000, immutable"
    assert fetched[f"tile/0/001.p/{checkpoint.size - 256}"] == "public, max-age=60"
    # GETs sent files; they wrote none.
    assert _files(folder) == before


def test_tick_writes_the_tiles_of_entries_a_killed_process_left(app, runner):
    _record(3)
    # Committed, then the process died before publishing: no checkpoint, no tiles for them.
    with database.atomic("IMMEDIATE") if is_sqlite() else database.atomic():
        app_ledger.get_ledger().append("test.appended", {"subject": "test:unpublished"})
    size = app_ledger.get_ledger().size()
    partial = tiles_dir() / f"tile/0/000.p/{size}"
    assert not partial.exists()
    result = runner.invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert partial.stat().st_size == size * 32


@pytest.fixture
def witness(app, tmp_path):
    """A witness for this app's log, served on loopback, and configured in the app."""
    signer = CosignatureSigner.parse(generate_witness_key("witness.test/w1")[0])
    state = Witness(signer, tmp_path / "witness.db", [app_ledger.signer().verifier])
    server = make_witness_server(state)
    with _serving(server) as url:
        app.config["WITNESSES"] = f"{signer.verifier} {url}"
        yield state, signer.verifier
    app.config["WITNESSES"] = ""


def _served(client) -> str:
    response = client.get("/ledger/checkpoint")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_witnesses_cosign_each_publication_and_the_checkpoint_carries_it(app, client, witness):
    state, vkey = witness
    _record(2)
    first = _served(client)
    body = first[: first.index("\n\n") + 1]
    assert verify_quorum(body, first.splitlines(keepends=True), [vkey], 1) == [vkey.name]
    _record(5)  # cosigned again, this time with a consistency proof from the first size
    second = _served(client)
    size = parse_checkpoint(second[: second.index("\n\n") + 1]).size
    assert size > parse_checkpoint(body).size
    assert state.latest(app_ledger.origin())[0] == size
    verify_quorum(second[: second.index("\n\n") + 1], second.splitlines(True), [vkey], 1)
    # The log's own signature still verifies on the note with the cosignatures appended.
    open_checkpoint(second, app_ledger.signer().verifier, app_ledger.origin())
    assert state.refusals() == []


def test_a_delivery_bundle_carries_the_cosignatures_a_verifier_demands(app, witness, make_delivery):
    _state, vkey = witness
    task, delivery = make_delivery()
    response = app.test_client(user=task.client).get(f"/deliveries/{delivery.id}/bundle.json")
    assert response.status_code == 200
    bundle = json.loads(response.data)
    log = app_ledger.signer().verifier
    assert verify_bundle(bundle, log, witnesses=[vkey], quorum=1).index == bundle["index"]
    other = CosignatureSigner.parse(generate_witness_key("witness.test/absent")[0]).verifier
    with pytest.raises(InvalidNote, match="1 of the 2"):
        verify_bundle(bundle, log, witnesses=[vkey, other], quorum=2)


def test_an_export_carries_the_cosignatures(app, runner, witness, tmp_path):
    _state, vkey = witness
    _record(2)
    result = runner.invoke(args=["ledger", "export", str(tmp_path / "export")])
    assert result.exit_code == 0, result.output
    log = app_ledger.signer().verifier
    exported = verify_export(tmp_path / "export", log, witnesses=[vkey], quorum=1)
    assert exported.size == app_ledger.get_ledger().size()


def test_a_witness_down_fails_nothing_and_tick_catches_up(app, client, runner, tmp_path):
    signer = CosignatureSigner.parse(generate_witness_key("witness.test/late")[0])
    state = Witness(signer, tmp_path / "late.db", [app_ledger.signer().verifier])
    server = make_witness_server(state)
    url = "http://{}:{}".format(*server.server_address[:2])
    app.config["WITNESSES"] = f"{signer.verifier} {url}"
    app.config["WITNESS_TIMEOUT"] = 0.5
    try:
        _record(2)  # the witness is not serving yet: the write succeeds all the same
        size = app_ledger.latest_checkpoint().size
        assert WitnessCosignature.select().count() == 0
        assert "witness.test/late" not in _served(client)
        with _serving(server):
            result = runner.invoke(args=["tick"])
        assert result.exit_code == 0, result.output
        assert "has not cosigned" not in result.output
        assert state.latest(app_ledger.origin())[0] == size
        served = _served(client)
        verify_quorum(
            served[: served.index("\n\n") + 1], served.splitlines(True), [signer.verifier], 1
        )
    finally:
        app.config["WITNESSES"] = ""


def test_silent_witnesses_are_waited_for_together_not_one_after_another(app):
    # Listening sockets that never answer: each witness costs the whole timeout.
    silent = []
    for _ in range(4):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        silent.append(sock)
    keys = [generate_witness_key(f"witness.test/silent{i}")[1] for i in range(4)]
    app.config["WITNESSES"] = ",".join(
        f"{key} http://127.0.0.1:{sock.getsockname()[1]}"
        for key, sock in zip(keys, silent, strict=True)
    )
    app.config["WITNESS_TIMEOUT"] = 0.5
    try:
        started = time.monotonic()
        _record(1)
        elapsed = time.monotonic() - started
    finally:
        app.config["WITNESSES"] = ""
        for sock in silent:
            sock.close()
    assert 0.5 <= elapsed < 1.5  # one after another would be 2 s or more
    assert WitnessCosignature.select().count() == 0


def test_tick_says_which_witness_did_not_cosign(app, runner):
    signer = CosignatureSigner.parse(generate_witness_key("witness.test/gone")[0])
    app.config["WITNESSES"] = f"{signer.verifier} http://127.0.0.1:9"
    app.config["WITNESS_TIMEOUT"] = 0.5
    try:
        _record(1)
        result = runner.invoke(args=["tick"])
    finally:
        app.config["WITNESSES"] = ""
    assert result.exit_code == 0, result.output
    assert "Witness witness.test/gone has not cosigned it: witness unreachable" in result.output


def test_a_cosignature_by_another_key_is_not_stored(app, runner, tmp_path):
    expected = CosignatureSigner.parse(generate_witness_key("witness.test/w1")[0])
    impostor = CosignatureSigner.parse(generate_witness_key("witness.test/w1")[0])
    state = Witness(impostor, tmp_path / "impostor.db", [app_ledger.signer().verifier])
    with _serving(make_witness_server(state)) as url:
        app.config["WITNESSES"] = f"{expected.verifier} {url}"
        try:
            _record(1)
            result = runner.invoke(args=["tick"])
        finally:
            app.config["WITNESSES"] = ""
    assert "answered a bad cosignature" in result.output
    assert WitnessCosignature.select().count() == 0


@pytest.mark.parametrize(
    "value",
    ["not-a-key http://x", "witness.test/w+00000000+AAAA http://x", "{vkey} ftp://x", "{vkey}"],
)
def test_a_mistyped_witness_list_stops_the_start(app, value):
    from coop import create_app

    vkey = generate_witness_key("witness.test/w")[1]
    config = {**app.config, "WITNESSES": value.format(vkey=vkey)}
    with pytest.raises(ValueError, match="COOP_WITNESSES"):
        create_app(config)
