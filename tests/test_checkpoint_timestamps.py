"""Published checkpoints are time-stamped by a real RFC 3161 TSA (openssl ts -reply on
loopback): the stored tokens pass `openssl ts -verify`; at most one stamp per COOP_TSA_INTERVAL
however many appends; delivery bundles, exports and results proofs carry the stamps, and the
offline verifiers check them and the interval they put around each entry's NTP time, flagging
an entry outside it; the receipt page says "independently bounded between ... by <TSA>" (and
"qualified" when so configured); a TSA that is down fails no write and `coop tick` says so."""

import csv
import io
import json
import subprocess
import sys

import pytest
from projects_support import make_project
from tsa_support import openssl_verify

from coop.audit import events
from coop.audit import ledger as app_ledger
from coop.db import write_transaction
from coop.models import CheckpointTimestamp
from coop.projects import operations as ops
from ledger.clock import ManualClock
from ledger.store import LedgerCheckpoint
from ledger.tsa import InvalidTimestamp
from ledger.verify import EXPORT_TIMESTAMPS, verify_bundle, verify_export


@pytest.fixture
def stamping(app, tsa):
    """The loopback TSA configured in the app, asked at every publication (interval 0)."""
    files, server, url = tsa
    app.config.update(TSA_URLS=url, TSA_INTERVAL=0)
    yield files, server
    app.config.update(TSA_URLS="", TSA_INTERVAL=60)


def _record(n: int, start: int = 0) -> None:
    with write_transaction():
        for i in range(start, start + n):
            events.record("test.stamped", f"test:{i}", n=i)


def _stamps() -> list:
    return list(CheckpointTimestamp.select().order_by(CheckpointTimestamp.size))


def test_each_publication_is_stamped_and_openssl_verifies_the_stored_token(app, stamping, tmp_path):
    files, _server = stamping
    _record(2)
    _record(3, start=2)
    stamps = _stamps()
    assert [s.size for s in stamps] == [2, 5]
    for stamp in stamps:
        note = LedgerCheckpoint.get(LedgerCheckpoint.size == stamp.size).note
        assert "Verification: OK" in openssl_verify(files, bytes(stamp.token), note, tmp_path)
        assert stamp.tsa == "Loopback TSA" and stamp.qualified is False


def test_stamps_are_bounded_by_the_interval_not_by_appends(app, stamping):
    _files, server = stamping
    app.config["TSA_INTERVAL"] = 3600
    for i in range(6):
        _record(1, start=i)  # six publications, each after its own commit
    assert server.requests == 1
    assert len(_stamps()) == 1


def test_nothing_is_stamped_while_the_log_does_not_grow(app, stamping, runner):
    _files, server = stamping
    _record(1)
    asked = server.requests
    assert runner.invoke(args=["tick"]).exit_code == 0
    assert server.requests == asked


def _bundle(app, make_delivery):
    task, delivery = make_delivery()
    _record(1, start=100)  # a later stamp bounds the delivery's entry from above
    response = app.test_client(user=task.client).get(f"/deliveries/{delivery.id}/bundle.json")
    assert response.status_code == 200
    return task, json.loads(response.data)


def test_a_bundle_carries_the_interval_and_verifies_offline(app, stamping, make_delivery, tmp_path):
    files, _server = stamping
    _record(1)  # a stamp below the delivery's entry
    _task, bundle = _bundle(app, make_delivery)
    interval = bundle["interval"]
    assert [i["tsa"] for i in interval] == ["Loopback TSA"]
    assert interval[0]["after"] and interval[0]["before"]
    log = app_ledger.signer().verifier
    checked = verify_bundle(bundle, log)
    assert checked.flags == ()
    assert checked.intervals[0].after_ns <= checked.intervals[0].before_ns
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    done = subprocess.run(
        [sys.executable, "-m", "ledger", "verify-bundle", str(path), "--key",
         app_ledger.verifier_key(), "--tsa-ca", str(files.ca_cert)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "bounded between" in done.stdout and "by Loopback TSA" in done.stdout


def test_a_bundle_with_an_altered_token_or_interval_is_refused(app, stamping, make_delivery):
    _record(1)
    _task, bundle = _bundle(app, make_delivery)
    log = app_ledger.signer().verifier
    moved = json.loads(json.dumps(bundle))
    moved["interval"][0]["before"] = "2099-01-01T00:00:00.000000000Z"
    with pytest.raises(ValueError, match="interval"):
        verify_bundle(moved, log)
    forged = json.loads(json.dumps(bundle))
    token = forged["timestamps"][0]["token"]
    forged["timestamps"][0]["token"] = token[:-8] + ("A" if token[-8] != "A" else "B") + token[-7:]
    with pytest.raises((InvalidTimestamp, ValueError)):
        verify_bundle(forged, log)


def test_an_entry_timed_after_its_upper_bound_is_flagged(app, stamping, make_delivery, tmp_path):
    ledger = app_ledger.get_ledger()
    # A clock an hour ahead: the entry claims a time after the TSA saw the checkpoint holding it.
    import time

    ahead = ManualClock(unix_ns=time.time_ns() + 3600 * 10**9)
    ledger.clock, before = ahead, ledger.clock
    try:
        task, delivery = make_delivery()
    finally:
        ledger.clock = before
    response = app.test_client(user=task.client).get(f"/deliveries/{delivery.id}/bundle.json")
    bundle = json.loads(response.data)
    checked = verify_bundle(bundle, app_ledger.signer().verifier)
    assert checked.flags and "after Loopback TSA's upper bound" in checked.flags[0]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    done = subprocess.run(
        [sys.executable, "-m", "ledger", "verify-bundle", str(path), "--key",
         app_ledger.verifier_key()],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 3 and "FLAGGED" in done.stderr
    page = app.test_client(user=task.client).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "The recorded NTP time lies outside this interval." in page
    # An export flags it too (every stamp is checked against the entries on either side).
    result = app.test_cli_runner().invoke(args=["ledger", "export", str(tmp_path / "export")])
    assert result.exit_code == 0, result.output
    exported = verify_export(tmp_path / "export", app_ledger.signer().verifier)
    assert any("after Loopback TSA's upper bound" in flag for flag in exported.flags)


def test_the_receipt_says_bounded_between_by_the_tsa_and_qualified(app, stamping, make_delivery):
    _files, _server = stamping
    app.config["TSA_URLS"] += " qualified"
    _record(1)
    task, _bundle_json = _bundle(app, make_delivery)
    page = app.test_client(user=task.client).get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Independently bounded between" in page and "by Loopback TSA" in page
    # The same bound in plain words, before the folded details.
    lead = page[: page.index('<details class="receipt-details">')]
    assert "An independent time-stamping authority, Loopback TSA, confirms it was recorded " \
           "between " in lead
    assert "Qualified (eIDAS) time-stamp." in page
    assert "lies outside this interval" not in page


def test_an_export_carries_the_stamps_and_verify_export_checks_them(
    app, stamping, runner, tmp_path
):
    files, _server = stamping
    _record(2)
    _record(2, start=2)
    folder = tmp_path / "export"
    result = runner.invoke(args=["ledger", "export", str(folder)])
    assert result.exit_code == 0, result.output
    log = app_ledger.signer().verifier
    exported = verify_export(folder, log)
    assert len(exported.stamps) >= 2 and exported.flags == ()
    done = subprocess.run(
        [sys.executable, "-m", "ledger", "verify-export", str(folder), "--key",
         app_ledger.verifier_key(), "--tsa-ca", str(files.ca_cert)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0 and "time-stamps verified" in done.stdout, done.stderr
    stamps = json.loads((folder / EXPORT_TIMESTAMPS).read_text())
    stamps[0]["checkpoint"] = stamps[1]["checkpoint"]  # a token moved to another checkpoint
    (folder / EXPORT_TIMESTAMPS).write_text(json.dumps(stamps))
    with pytest.raises((InvalidTimestamp, ValueError)):
        verify_export(folder, log)


def test_a_results_proof_carries_the_stamps_and_verify_results_checks_them(
    app, stamping, make_client_user, make_member, tmp_path
):
    owner = make_client_user()
    with app.test_request_context():
        project = make_project(owner, items=3, overlap=1)
        member = make_member()
        for _ in range(3):
            lease = ops.next_assignment(member, project)
            ops.submit_answer(member, lease, {"label": "keep"})
    _record(1, start=50)
    web = app.test_client(user=owner)
    size = app_ledger.latest_checkpoint().size
    results = web.get(f"/projects/{project.id}/results.csv?size={size}").data
    proof = web.get(f"/projects/{project.id}/results.proof.jsonl?size={size}").data
    header = json.loads(proof.split(b"\n", 1)[0])
    assert header["timestamps"]
    (tmp_path / "results.csv").write_bytes(results)
    (tmp_path / "proof.jsonl").write_bytes(proof)
    done = subprocess.run(
        [sys.executable, "-m", "ledger", "verify-results", str(tmp_path / "results.csv"),
         str(tmp_path / "proof.jsonl"), "--key", app_ledger.verifier_key()],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 rows verified" in done.stdout and "time-stamps verified" in done.stdout
    # Every row states the interval beside its NTP time, inside it.
    rows = list(csv.DictReader(io.StringIO(results.decode())))
    for row in rows:
        assert row["bounded_after"] <= row["timestamp"] <= row["bounded_before"]
    # A row claiming a narrower interval than the stamps prove is refused, naming it.
    first = rows[0]["bounded_before"]
    narrowed = results.replace(first.encode(), rows[0]["timestamp"].encode(), 1)
    (tmp_path / "results.csv").write_bytes(narrowed)
    done = subprocess.run(
        [sys.executable, "-m", "ledger", "verify-results", str(tmp_path / "results.csv"),
         str(tmp_path / "proof.jsonl"), "--key", app_ledger.verifier_key()],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1 and "row 1" in done.stderr and "bounded_before" in done.stderr


def test_a_tsa_that_is_down_fails_no_write_and_tick_says_so(app, runner):
    app.config.update(TSA_URLS="http://127.0.0.1:9/tsa", TSA_INTERVAL=0, TSA_TIMEOUT=0.5)
    try:
        _record(1)  # the write succeeds all the same
        assert _stamps() == []
        _record(1, start=1)
        result = runner.invoke(args=["tick"])
        assert result.exit_code == 0, result.output
        assert "TSA http://127.0.0.1:9/tsa has not time-stamped it: TSA unreachable" in (
            result.output
        )
    finally:
        app.config.update(TSA_URLS="", TSA_INTERVAL=60, TSA_TIMEOUT=5.0)


def test_a_mistyped_tsa_setting_stops_the_start(tmp_path):
    from coop.audit.timestamps import parse_tsas

    assert parse_tsas("https://a.example/tsa qualified, http://b.example/tsa")[0].qualified
    with pytest.raises(ValueError, match="COOP_TSA_URLS"):
        parse_tsas("ftp://a.example/tsa")
    with pytest.raises(ValueError, match="COOP_TSA_URLS"):
        parse_tsas("https://a.example/tsa eidas")
