"""The client API at /api/v1: only a live bearer token opens it (401 JSON with a Bearer
challenge otherwise, session cookies ignored); each caller sees only their own tasks (a client
what they posted, a member what they hold or held, the board everything) and 404 for anything
else; delivered files come back byte for byte with their SHA-256; the proof bundle verifies
offline with `python -m ledger verify-bundle`; `coop token create` prints a working token."""

import base64
import hashlib
import io
import json
import subprocess
import sys
from datetime import timedelta
from types import SimpleNamespace

import pytest
from conftest import PASSWORD

from coop import files
from coop.audit.ledger import verifier_key
from coop.auth.tokens import LAST_USED_RESOLUTION, create_token, revoke_token
from coop.delivery.operations import accept_delivery, submit_delivery
from coop.market.operations import claim_task, post_task
from coop.models import ApiToken, utcnow

CONTENT = b"bicycle,12,40,80,120\n"
OTHER_CONTENT = b"transcript: hello\n"


def _post(client, title):
    return post_task(
        client,
        title=title,
        description="Draw boxes around bicycles.",
        instructions="One box per bicycle.",
        category="image_labelling",
        estimated_minutes=30,
        deadline=utcnow() + timedelta(days=3),
        pricing="fixed",
        price_cents=1500,
    )


def _deliver(member, task, body, name):
    stored = files.save(io.BytesIO(body), name, "text/plain")
    return submit_delivery(member, task.id, [stored], "Done.")


@pytest.fixture
def world(app, make_client_user, make_member, make_board):
    """Two clients, two members and a board member; each client has one delivered task,
    the first one accepted; everyone holds an API token."""
    alice, bob = make_client_user(), make_client_user()
    mia, noe = make_member(), make_member()
    board = make_board()
    with app.test_request_context():
        task_a = _post(alice, "Alice's photos")
        claim_task(mia, task_a.id)
        delivery_a = _deliver(mia, task_a, CONTENT, "a.txt")
        accept_delivery(alice, delivery_a.id)
        task_b = _post(bob, "Bob's audio")
        claim_task(noe, task_b.id)
        delivery_b = _deliver(noe, task_b, OTHER_CONTENT, "b.txt")
        tokens = {
            name: create_token(user, "tests")[1]
            for name, user in {
                "alice": alice, "bob": bob, "mia": mia, "noe": noe, "board": board
            }.items()
        }
    return SimpleNamespace(
        alice=alice, bob=bob, mia=mia, noe=noe, board=board,
        task_a=task_a, task_b=task_b, delivery_a=delivery_a, delivery_b=delivery_b,
        tokens=tokens,
    )


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def get(client, path, token=None, **kwargs):
    headers = bearer(token) if token else {}
    return client.get(path, headers=headers, **kwargs)


# --- authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/tasks", "/api/v1/tasks/1", "/api/v1/deliveries/1/bundle",
             "/api/v1/deliveries/1/files/1"]
)
@pytest.mark.parametrize(
    "headers, invalid",
    [
        ({}, False),
        ({"Authorization": "Bearer coop_not-a-real-token"}, True),
        ({"Authorization": "Bearer something-else"}, True),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, False),
    ],
)
def test_no_or_bad_token_is_401_json_with_a_bearer_challenge(
    client, world, path, headers, invalid
):
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.is_json
    assert response.json["status"] == 401 and response.json["error"]
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert ('error="invalid_token"' in challenge) is invalid


def test_a_session_cookie_does_not_open_the_api(app, world):
    web = app.test_client()
    signed_in = web.post("/login", data={"email": world.alice.email, "password": PASSWORD})
    assert signed_in.status_code == 302
    assert web.get("/api/v1/tasks").status_code == 401
    # …nor rescues a bad token.
    assert get(web, "/api/v1/tasks", "coop_wrong").status_code == 401


def test_revoked_token_is_refused(app, client, world):
    assert get(client, "/api/v1/tasks", world.tokens["alice"]).status_code == 200
    row = ApiToken.get(ApiToken.user == world.alice.id)
    with app.test_request_context():
        revoke_token(world.alice, row.id)
    response = get(client, "/api/v1/tasks", world.tokens["alice"])
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_using_a_token_records_when_it_was_last_used(client, world):
    row = ApiToken.get(ApiToken.user == world.bob.id)
    assert row.last_used_at is None
    get(client, "/api/v1/tasks", world.tokens["bob"])
    first = ApiToken.get_by_id(row.id).last_used_at
    assert first is not None
    # Noted at most once per interval, so that reading the API is not a write each time.
    get(client, "/api/v1/tasks", world.tokens["bob"])
    assert ApiToken.get_by_id(row.id).last_used_at == first
    earlier = first - LAST_USED_RESOLUTION - timedelta(seconds=1)
    ApiToken.update(last_used_at=earlier).where(ApiToken.id == row.id).execute()
    get(client, "/api/v1/tasks", world.tokens["bob"])
    assert ApiToken.get_by_id(row.id).last_used_at > earlier


def test_the_api_is_read_only(client, world):
    response = client.post("/api/v1/tasks", headers=bearer(world.tokens["alice"]))
    assert response.status_code == 405
    assert response.json["status"] == 405


# --- who sees what -----------------------------------------------------------------------------


def _ids(response):
    assert response.status_code == 200, response.json
    return [task["id"] for task in response.json["tasks"]]


def test_client_sees_own_tasks_only(client, world):
    assert _ids(get(client, "/api/v1/tasks", world.tokens["alice"])) == [world.task_a.id]
    assert _ids(get(client, "/api/v1/tasks", world.tokens["bob"])) == [world.task_b.id]
    other = get(client, f"/api/v1/tasks/{world.task_b.id}", world.tokens["alice"])
    assert other.status_code == 404
    assert other.json == {"error": other.json["error"], "status": 404}


def test_client_sees_the_delivery_of_their_task(client, world):
    response = get(client, f"/api/v1/tasks/{world.task_a.id}", world.tokens["alice"])
    assert response.status_code == 200
    task = response.json
    assert (task["title"], task["state"], task["member"]) == (
        "Alice's photos", "completed", world.mia.pseudonym
    )
    (delivery,) = task["deliveries"]
    assert (delivery["id"], delivery["attempt"], delivery["state"]) == (
        world.delivery_a.id, 1, "accepted"
    )
    assert delivery["on_time"] is True and delivery["note"] == "Done."
    assert delivery["submitted_at"].endswith("Z")
    (stored,) = delivery["files"]
    assert stored["filename"] == "a.txt"
    assert stored["sha256"] == hashlib.sha256(CONTENT).hexdigest()
    assert stored["size"] == len(CONTENT)
    assert delivery["ledger"]["index"] >= 0 and delivery["ledger"]["unix_ns"] > 0
    assert delivery["bundle_url"].endswith(f"/api/v1/deliveries/{world.delivery_a.id}/bundle")


def test_member_sees_the_deliveries_of_tasks_they_delivered(client, world):
    assert _ids(get(client, "/api/v1/tasks", world.tokens["mia"])) == [world.task_a.id]
    response = get(client, f"/api/v1/tasks/{world.task_a.id}", world.tokens["mia"])
    assert [d["id"] for d in response.json["deliveries"]] == [world.delivery_a.id]
    assert get(client, f"/api/v1/tasks/{world.task_b.id}", world.tokens["mia"]).status_code == 404


def test_member_keeps_seeing_a_task_they_held_and_released(app, client, world):
    from coop.market.operations import release_task

    with app.test_request_context():
        task = _post(world.alice, "Released")
        claim_task(world.noe, task.id)
        release_task(world.noe, task.id)
    assert task.id in _ids(get(client, "/api/v1/tasks", world.tokens["noe"]))
    assert task.id not in _ids(get(client, "/api/v1/tasks", world.tokens["mia"]))


def test_board_sees_every_task(client, world):
    ids = _ids(get(client, "/api/v1/tasks", world.tokens["board"]))
    assert ids == [world.task_b.id, world.task_a.id]
    response = get(client, f"/api/v1/tasks/{world.task_b.id}", world.tokens["board"])
    assert [d["id"] for d in response.json["deliveries"]] == [world.delivery_b.id]


def test_unknown_task_is_404(client, world):
    assert get(client, "/api/v1/tasks/999999", world.tokens["board"]).status_code == 404
    assert get(client, "/api/v1/nothing-here", world.tokens["board"]).json["status"] == 404


# --- pagination --------------------------------------------------------------------------------


def test_tasks_are_paginated_newest_first(app, client, world):
    with app.test_request_context():
        more = [_post(world.alice, f"Task {n}").id for n in range(4)]
    token = world.tokens["alice"]
    everything = [*reversed(more), world.task_a.id]
    first = get(client, "/api/v1/tasks?per_page=2", token).json
    assert (first["page"], first["per_page"], first["total"], first["pages"]) == (1, 2, 5, 3)
    pages = [
        _ids(get(client, f"/api/v1/tasks?per_page=2&page={n}", token)) for n in (1, 2, 3)
    ]
    assert [i for page in pages for i in page] == everything
    assert _ids(get(client, "/api/v1/tasks?per_page=2&page=4", token)) == []
    assert _ids(get(client, "/api/v1/tasks?per_page=100", token)) == everything


@pytest.mark.parametrize(
    "query",
    ["page=0", "page=-1", "page=abc", "page=1.5", "page=", "per_page=0", "per_page=101",
     "per_page=x", "page=١"],
)
def test_bad_pagination_is_400_json(client, world, query):
    response = get(client, f"/api/v1/tasks?{query}", world.tokens["alice"])
    assert response.status_code == 400
    assert response.json["status"] == 400
    assert ("page" in response.json["error"]) or ("per_page" in response.json["error"])


# --- files and bundles ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "mia", "board"])
def test_file_download_matches_bytes_and_sha256(client, world, who):
    (stored,) = world.delivery_a.files
    url = f"/api/v1/deliveries/{world.delivery_a.id}/files/{stored.id}"
    response = get(client, url, world.tokens[who])
    body = response.data
    response.close()  # the body streams from an open file
    assert response.status_code == 200
    assert body == CONTENT
    assert hashlib.sha256(body).hexdigest() == stored.sha256
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert response.headers["Repr-Digest"] == f"sha-256=:{digest}:"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "a.txt" in response.headers["Content-Disposition"]


@pytest.mark.parametrize("who", ["bob", "noe"])
def test_file_of_someone_else_is_404(client, world, who):
    (stored,) = world.delivery_a.files
    url = f"/api/v1/deliveries/{world.delivery_a.id}/files/{stored.id}"
    response = get(client, url, world.tokens[who])
    assert response.status_code == 404 and response.json["status"] == 404
    # A real file id under another delivery is not found either.
    (other,) = world.delivery_b.files
    mismatched = f"/api/v1/deliveries/{world.delivery_a.id}/files/{other.id}"
    assert get(client, mismatched, world.tokens["board"]).status_code == 404


@pytest.mark.parametrize("who", ["bob", "noe"])
def test_bundle_of_someone_else_is_404(client, world, who):
    response = get(client, f"/api/v1/deliveries/{world.delivery_a.id}/bundle", world.tokens[who])
    assert response.status_code == 404 and response.json["status"] == 404
    assert get(client, "/api/v1/deliveries/999999/bundle", world.tokens["board"]).status_code == 404


def test_bundle_verifies_offline_with_the_delivered_file(app, client, world, tmp_path):
    response = get(
        client, f"/api/v1/deliveries/{world.delivery_a.id}/bundle", world.tokens["alice"]
    )
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="delivery-{world.delivery_a.id}-bundle.json"'
    bundle_path = tmp_path / "bundle.json"
    bundle_path.write_bytes(response.data)
    (stored,) = world.delivery_a.files
    download = get(
        client, f"/api/v1/deliveries/{world.delivery_a.id}/files/{stored.id}", world.tokens["mia"]
    )
    deliverable = tmp_path / "a.txt"
    deliverable.write_bytes(download.data)
    download.close()
    key = verifier_key()

    def verify(*extra):
        return subprocess.run(
            [sys.executable, "-m", "ledger", "verify-bundle", str(bundle_path), "--key", key,
             *extra],
            capture_output=True, text=True, timeout=60,
        )

    ok = verify("--file", str(deliverable))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # The same bundle refuses a file that was not delivered.
    forged = tmp_path / "forged.txt"
    forged.write_bytes(CONTENT + b"tampered")
    assert verify("--file", str(forged)).returncode == 1
    # …and a bundle whose entry was altered.
    data = json.loads(response.data)
    entry = base64.b64decode(data["entry"])
    data["entry"] = base64.b64encode(entry.replace(b'"on_time":true', b'"on_time":fals')).decode()
    assert data["entry"] != json.loads(response.data)["entry"]
    bundle_path.write_text(json.dumps(data))
    assert verify("--file", str(deliverable)).returncode == 1


# --- the CLI -------------------------------------------------------------------------------------


def test_cli_token_works_for_a_client(runner, client, world):
    result = runner.invoke(args=["token", "create", "--user", world.bob.email])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("coop_")
    assert _ids(get(client, "/api/v1/tasks", token)) == [world.task_b.id]


def test_cli_token_for_the_board_sees_all_tasks(runner, client, world):
    result = runner.invoke(
        args=["token", "create", "--user", world.board.email, "--name", "audit"]
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert _ids(get(client, "/api/v1/tasks", token)) == [world.task_b.id, world.task_a.id]
    assert get(client, f"/api/v1/tasks/{world.task_a.id}", token).status_code == 200
