"""`coop ledger rotate-key` replaces the checkpoint signing key without breaking anything
signed before: the latest checkpoint is signed by both keys (the handover a client checks with
the key it already holds), the old verifier key stays listed at /ledger/keys, exports and
bundles made before and after verify with the listed keys, and `coop ledger verify` still
passes. The old private key is gone from disk."""

import json
import subprocess
import sys

from coop.audit import events, keys
from coop.audit import ledger as app_ledger
from coop.db import write_transaction
from ledger.note import InvalidNote, Verifier, open_checkpoint, open_note
from ledger.verify import verify_export


def _record(n: int, start: int = 0) -> None:
    with write_transaction():
        for i in range(start, start + n):
            events.record("test.rotation", f"test:{i}", n=i)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ledger", *args], capture_output=True,
                          text=True, check=False)


def test_rotation_keeps_old_checkpoints_verifiable(app, client, runner, tmp_path):
    _record(3)
    old_key = Verifier.parse(client.get("/ledger/key").text)
    before = tmp_path / "before"
    assert runner.invoke(args=["ledger", "export", str(before)]).exit_code == 0

    result = runner.invoke(args=["ledger", "rotate-key", "--yes"])
    assert result.exit_code == 0, result.output
    new_key = Verifier.parse(client.get("/ledger/key").text)
    assert new_key.name == old_key.name and new_key.key_id != old_key.key_id
    assert client.get("/ledger/keys").text == f"{new_key}\n{old_key}\n"
    assert "PRIVATE+KEY" in keys.key_file(app).read_text()
    assert str(app_ledger.signer().verifier) == str(new_key)

    # The handover: one checkpoint, signed by the old key and the new.
    handover = client.get("/ledger/checkpoint").text
    assert open_checkpoint(handover, old_key).size == 3
    assert open_checkpoint(handover, new_key).size == 3
    assert {s.name for s in open_note(handover, [old_key, new_key]).signatures} == {
        old_key.name
    } and len(open_note(handover, [old_key, new_key]).signatures) == 2

    _record(2, start=3)
    later = client.get("/ledger/checkpoint").text
    open_checkpoint(later, new_key)
    try:
        open_checkpoint(later, old_key)
        raise AssertionError("the old key must not sign after the rotation")
    except InvalidNote:
        pass

    after = tmp_path / "after"
    assert runner.invoke(args=["ledger", "export", str(after)]).exit_code == 0
    listed = tmp_path / "keys.txt"
    listed.write_text(client.get("/ledger/keys").text)
    for folder in (before, after):
        done = _cli("verify-export", str(folder), "--key", str(listed))
        assert done.returncode == 0, done.stderr
        verify_export(folder, [new_key, old_key])
    assert _cli("verify-export", str(before), "--key", str(new_key)).returncode == 1

    verified = runner.invoke(args=["ledger", "verify"])
    assert verified.exit_code == 0, verified.output
    bundle = app_ledger.get_ledger().bundle(0, checkpoint=later)
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    assert _cli("verify-bundle", str(path), "--key", str(listed)).returncode == 0


def test_a_key_from_the_environment_is_not_rotated_here(app, runner):
    from ledger.note import generate_signer_key

    secret, _vkey = generate_signer_key(app.config["LEDGER_ORIGIN"])
    app.config["LEDGER_KEY"] = secret
    app.extensions["coop_ledger"]["signer"] = None
    try:
        result = runner.invoke(args=["ledger", "rotate-key", "--yes"])
    finally:
        app.config["LEDGER_KEY"] = ""
        app.extensions["coop_ledger"]["signer"] = None
    assert result.exit_code == 1
    assert "COOP_LEDGER_KEY" in result.output
    assert not keys.retired_keys_file(app).exists()
