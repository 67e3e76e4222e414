"""A client posts a task on the web, a member delivers, the client accepts; the proof bundle
downloaded from the task page verifies offline with `python -m ledger verify-bundle`, and every
kind of tampering (file, entry, proof hash, checkpoint, a row edited by hand) is caught."""

import base64
import io
import json
import subprocess
import sys
from datetime import timedelta

import pytest

from coop.audit.ledger import verifier_key
from coop.models import Delivery, Earning, Task, TaskState, utcnow

DELIVERABLE = b"transcript: the quick brown fox\n" * 50


def verify_bundle(tmp_path, bundle: dict, key: str, file_bytes: bytes | None = None):
    """Run the offline verifier in a subprocess, as a client would."""
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    args = [sys.executable, "-m", "ledger", "verify-bundle", str(path), "--key", key]
    if file_bytes is not None:
        (tmp_path / "deliverable.txt").write_bytes(file_bytes)
        args += ["--file", str(tmp_path / "deliverable.txt")]
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


@pytest.fixture
def accepted_delivery(app, make_client_user, make_member):
    """Drive the web app from posting to acceptance; return (client, delivery, bundle)."""
    shop, alice = make_client_user(), make_member()
    as_shop, as_alice = app.test_client(user=shop), app.test_client(user=alice)
    deadline = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = as_shop.post(
        "/tasks/new",
        data={
            "title": "Transcribe a 5-minute interview",
            "description": "Verbatim transcript.",
            "instructions": "Mark inaudible passages.",
            "category": "transcription",
            "estimated_minutes": "30",
            "deadline": deadline,
            "pricing": "fixed",
            "price": "9.50",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    task = Task.select().order_by(Task.id.desc()).get()
    assert as_alice.post(f"/tasks/{task.id}/claim").status_code == 302
    response = as_alice.post(
        f"/tasks/{task.id}/deliver",
        data={"note": "Done.", "files": [(io.BytesIO(DELIVERABLE), "interview.txt")],
              "minutes_spent": "30"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    delivery = Delivery.get(Delivery.task == task.id)
    assert as_shop.post(f"/deliveries/{delivery.id}/accept").status_code == 302
    assert Task.get_by_id(task.id).state == TaskState.COMPLETED
    page = as_shop.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Ledger entry #" in page and "Download proof bundle" in page
    response = as_shop.get(f"/deliveries/{delivery.id}/bundle.json")
    assert response.status_code == 200
    return shop, delivery, json.loads(response.data)


def test_bundle_verifies_offline_with_and_without_the_file(app, accepted_delivery, tmp_path):
    _shop, _delivery, bundle = accepted_delivery
    key = verifier_key()
    with_file = verify_bundle(tmp_path, bundle, key, DELIVERABLE)
    assert with_file.returncode == 0, with_file.stdout + with_file.stderr
    without = verify_bundle(tmp_path, bundle, key)
    assert without.returncode == 0, without.stdout + without.stderr


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def test_tampering_is_rejected_with_a_reason(app, accepted_delivery, tmp_path):
    _shop, _delivery, bundle = accepted_delivery
    key = verifier_key()

    result = verify_bundle(tmp_path, bundle, key, _flip(DELIVERABLE, 10))
    assert result.returncode != 0
    assert "sha-256" in (result.stdout + result.stderr).lower()

    entry = base64.b64decode(bundle["entry"])
    forged = dict(bundle, entry=base64.b64encode(_flip(entry, len(entry) // 2)).decode())
    result = verify_bundle(tmp_path, forged, key)
    assert result.returncode != 0 and (result.stdout + result.stderr).strip()

    hashes = list(bundle["inclusion"]["hashes"])
    assert hashes, "the journey leaves several entries, so the proof has hashes to tamper with"
    hashes[0] = base64.b64encode(_flip(base64.b64decode(hashes[0]), 0)).decode()
    forged = dict(bundle, inclusion=dict(bundle["inclusion"], hashes=hashes))
    result = verify_bundle(tmp_path, forged, key)
    assert result.returncode != 0 and "proof" in (result.stdout + result.stderr).lower()

    lines = bundle["checkpoint"].split("\n")
    lines[1] = str(int(lines[1]) + 1)
    forged = dict(bundle, checkpoint="\n".join(lines))
    result = verify_bundle(tmp_path, forged, key)
    assert result.returncode != 0 and (result.stdout + result.stderr).strip()


def test_coop_ledger_verify_catches_a_row_edited_by_hand(app, runner, accepted_delivery):
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output

    earning = Earning.select().get()
    Earning.update(earnings_cents=earning.earnings_cents + 100).where(
        Earning.id == earning.id
    ).execute()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code != 0
    assert "earning" in result.output


def test_coop_ledger_verify_catches_a_swapped_file_hash(app, runner, accepted_delivery):
    from coop.models import DeliveryFile

    DeliveryFile.update(sha256="0" * 64).execute()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code != 0
    assert "files of delivery" in result.output
