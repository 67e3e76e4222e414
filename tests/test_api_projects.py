"""A client runs a micro-task project through /api/v1 alone: creates it, uploads items as JSON
Lines or CSV, publishes it, reviews the members' answers, downloads the results and their proof
cut at one checkpoint, and `python -m ledger verify-results` checks them offline. Refusals are
4xx JSON naming the field and change nothing; a bad row imports nothing; a chunked upload
over real HTTP is read as it arrives; another client's
project is 404; a read-only token is refused every POST (403) and that refusal changes nothing."""

import http.client
import json
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from projects_support import MODERATION, PRICE, SECONDS, comments
from werkzeug.serving import make_server

from coop.audit import ledger as app_ledger
from coop.auth.tokens import create_token
from coop.models import TokenScope, utcnow
from coop.projects import operations as ops
from coop.projects.models import Answer, AnswerState, Item, Project, ProjectState

API = "/api/v1"


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


def _new(**overrides) -> dict:
    body = {
        "title": "Moderate comments",
        "instructions": "Remove insults and spam; keep the rest.",
        "template": MODERATION,
        "price_cents": PRICE,
        "estimated_seconds": SECONDS,
        "overlap": 2,
        "deadline": (utcnow() + timedelta(days=7)).replace(microsecond=0).isoformat() + "Z",
        "budget_cents": 10_000,
    }
    body.update(overrides)
    return body


def _jsonl(rows) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


@pytest.fixture
def owner(app, make_client_user):
    user = make_client_user()
    with app.test_request_context():
        write = create_token(user, "sync", TokenScope.WRITE)[1]
        read = create_token(user, "dash")[1]
    return user, write, read


@pytest.fixture
def draft(client, owner):
    """A draft project made through the API, with 4 items."""
    _user, write, _read = owner
    made = client.post(f"{API}/projects", json=_new(), headers=_auth(write))
    assert made.status_code == 201, made.json
    pid = made.json["id"]
    upload = client.post(f"{API}/projects/{pid}/items", data=_jsonl(comments(4)),
                         content_type="application/x-ndjson", headers=_auth(write))
    assert upload.status_code == 200, upload.json
    return pid


def _verify(tmp_path, results: bytes, proof: bytes, name: str):
    (tmp_path / name).write_bytes(results)
    (tmp_path / "proof.jsonl").write_bytes(proof)
    return subprocess.run(
        [sys.executable, "-m", "ledger", "verify-results", str(tmp_path / name),
         str(tmp_path / "proof.jsonl"), "--key", app_ledger.verifier_key()],
        capture_output=True, text=True, timeout=60,
    )


def test_round_trip_create_upload_publish_review_results_proof(
    app, client, owner, make_member, tmp_path
):
    user, write, read = owner
    made = client.post(f"{API}/projects", json=_new(), headers=_auth(write))
    assert made.status_code == 201
    assert made.json["state"] == "draft" and made.json["overlap"] == 2
    assert made.headers["Location"].endswith(f"/api/v1/projects/{made.json['id']}")
    pid = made.json["id"]

    upload = client.post(f"{API}/projects/{pid}/items", data=_jsonl(comments(3)),
                         content_type="application/x-ndjson", headers=_auth(write))
    assert upload.json == {"imported": 3, "unchanged": 0, "errors": [], "more_errors": 0}
    again = client.post(f"{API}/projects/{pid}/items", data=_jsonl(comments(4)),
                        content_type="application/jsonl", headers=_auth(write))
    assert (again.json["imported"], again.json["unchanged"]) == (1, 3)

    published = client.post(f"{API}/projects/{pid}/publish", headers=_auth(write))
    assert published.status_code == 200 and published.json["state"] == "published"

    project = Project.get_by_id(pid)
    with app.test_request_context():
        for _ in range(3):
            member = make_member()
            for n in range(2):
                lease = ops.next_assignment(member, project)
                ops.submit_answer(member, lease, {"label": "remove", "reason": "Spam link."}
                                  if n else {"label": "keep"})
    listed = client.get(f"{API}/projects/{pid}/answers", headers=_auth(read)).json
    answers = [a["id"] for a in listed["answers"]]
    assert answers == [a.id for a in Answer.select().where(Answer.project == pid)
                       .order_by(Answer.id)]
    assert len(answers) == 6 and listed["more"] is False
    assert {a["state"] for a in listed["answers"]} == {"pending"}

    detail = client.get(f"{API}/projects/{pid}", headers=_auth(read)).json
    assert detail["items"] == 4
    stats = detail["stats"]
    assert (stats["wanted"], stats["answered"], stats["pending"]) == (8, 6, 6)
    # Answered at once in the test: measured time 0, so no hourly figure yet.
    assert (stats["median_seconds"], stats["net_per_hour_cents"]) == (0, None)
    assert stats["net_cents"] == 18  # 20 less the 8% margin, rounded as tasks are

    rejected = client.post(
        f"{API}/projects/{pid}/reviews",
        json={"reject": [{"answer": answers[0], "category": "wrong",
                          "reason": "This comment is an insult."}]},
        headers=_auth(write),
    )
    assert rejected.json == {"accepted": 0, "rejected": 1}
    some = client.post(f"{API}/projects/{pid}/reviews", json={"accept": answers[1:3]},
                       headers=_auth(write))
    assert some.json == {"accepted": 2, "rejected": 0}
    rest = client.post(f"{API}/projects/{pid}/reviews", json={"accept": "all"},
                       headers=_auth(write))
    assert rest.json == {"accepted": 3, "rejected": 0}
    stats = client.get(f"{API}/projects/{pid}", headers=_auth(read)).json["stats"]
    assert (stats["accepted"], stats["rejected"], stats["spent_cents"]) == (5, 1, 5 * PRICE)

    results = client.get(f"{API}/projects/{pid}/results?format=csv", headers=_auth(read))
    assert results.status_code == 200 and results.mimetype == "text/csv"
    size = int(results.headers["Coop-Checkpoint-Size"])
    rows = results.data  # read the stream before the next request
    proof = client.get(f"{API}/projects/{pid}/results/proof?size={size}", headers=_auth(read))
    assert proof.headers["Coop-Checkpoint-Size"] == str(size)
    proof_bytes = proof.data
    assert rows.count(b"\n") == 1 + 6
    checked = _verify(tmp_path, rows, proof_bytes, "results.csv")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "6 rows verified" in checked.stdout

    jsonl = client.get(f"{API}/projects/{pid}/results?format=jsonl&size={size}",
                       headers=_auth(read))
    assert jsonl.mimetype == "application/x-ndjson"
    lines = jsonl.data
    statuses = [json.loads(line)["status"] for line in lines.splitlines()]
    assert sorted(statuses) == ["accepted"] * 5 + ["rejected"]
    assert _verify(tmp_path, lines, proof_bytes, "results.jsonl").returncode == 0
    changed = lines.replace(b'"keep"', b'"remove"', 1)
    assert changed != lines
    assert _verify(tmp_path, changed, proof_bytes, "results.jsonl").returncode == 1
    rows_ds = client.get(f"{API}/projects/{pid}/results?size={size}&method=dawid_skene",
                         headers=_auth(read)).data
    parsed = [json.loads(line) for line in rows_ds.splitlines()]
    assert {r["method"] for r in parsed} == {"dawid_skene"}
    assert all(r["aggregate"] and 0 < r["confidence"] <= 1 for r in parsed)
    assert {r["method"] for r in map(json.loads, lines.splitlines())} == {"majority"}
    assert _verify(tmp_path, rows_ds, proof_bytes, "results.jsonl").returncode == 0

    paused = client.post(f"{API}/projects/{pid}/pause", headers=_auth(write))
    assert paused.json["state"] == "paused"
    listing = client.get(f"{API}/projects", headers=_auth(read)).json
    assert [p["id"] for p in listing["projects"]] == [pid] and listing["total"] == 1


def test_csv_upload_and_a_bad_row_imports_nothing(client, owner):
    _user, write, _read = owner
    pid = client.post(f"{API}/projects", json=_new(), headers=_auth(write)).json["id"]
    good = b"external_id,comment\nc1,Hello\nc2,Bonjour\n"
    response = client.post(f"{API}/projects/{pid}/items", data=good, content_type="text/csv",
                           headers=_auth(write))
    assert response.status_code == 200 and response.json["imported"] == 2
    bad = b"external_id,comment\nc3,Fine\n,No id\nc4,\n"
    response = client.post(f"{API}/projects/{pid}/items", data=bad, content_type="text/csv",
                           headers=_auth(write))
    assert response.status_code == 400
    assert response.json["imported"] == 0
    assert [e["line"] for e in response.json["errors"]] == [3, 4]
    assert Item.select().where(Item.project == pid).count() == 2
    assert Project.get_by_id(pid).items_count == 2


def test_an_unknown_body_type_is_415(client, owner, draft):
    _user, write, _read = owner
    response = client.post(f"{API}/projects/{draft}/items", data=b"<items/>",
                           content_type="application/xml", headers=_auth(write))
    assert response.status_code == 415
    assert response.json["field"] == "items"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price_cents": 1}, "price_cents"),
        ({"budget_cents": 0}, "budget_cents"),
        ({"price_cents": "20"}, "price_cents"),
        ({"title": ""}, "title"),
        ({"title": 5}, "title"),
        ({"deadline": "tomorrow"}, "deadline"),
        ({"deadline": "2030-01-01T00:00:00"}, "deadline"),
        ({"deadline": "2001-01-01T00:00:00Z"}, "deadline"),
        ({"deadline": "9999-12-31T23:59:59-23:00"}, "deadline"),
        ({"price_cents": 10**30}, "price_cents"),
        ({"template": {"kind": "dance"}}, "template"),
        ({"overlap": True}, "overlap"),
        ({"sensitive": True}, "content_note"),
    ],
)
def test_refusals_name_the_field_and_create_nothing(client, owner, change, field):
    _user, write, _read = owner
    response = client.post(f"{API}/projects", json=_new(**change), headers=_auth(write))
    assert response.status_code == 400, response.json
    assert response.json["field"] == field and response.json["error"]
    assert Project.select().count() == 0


def test_a_body_that_is_not_a_json_object_is_400(client, owner):
    _user, write, _read = owner
    for data in (b"[1]", b"not json", b'{"title": "a\\u0000b"}'):
        response = client.post(f"{API}/projects", data=data, content_type="application/json",
                               headers=_auth(write))
        assert response.status_code == 400
    assert Project.select().count() == 0


def test_an_rfc3339_offset_is_converted_to_utc(client, owner):
    _user, write, _read = owner
    later = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    body = _new(deadline=(later + timedelta(hours=2)).isoformat() + "+02:00")
    made = client.post(f"{API}/projects", json=body, headers=_auth(write))
    assert made.json["deadline"] == later.isoformat() + "Z"


def test_a_read_only_token_is_refused_every_post_and_nothing_changes(client, owner, draft):
    user, write, read = owner
    before = (Project.select().count(), Project.get_by_id(draft).state,
              Item.select().count())
    posts = [
        (f"{API}/projects", {"json": _new()}),
        (f"{API}/projects/{draft}/items",
         {"data": _jsonl(comments(2, start=10)), "content_type": "application/x-ndjson"}),
        (f"{API}/projects/{draft}/publish", {}),
        (f"{API}/projects/{draft}/pause", {}),
        (f"{API}/projects/{draft}/reviews", {"json": {"accept": "all"}}),
    ]
    for url, kwargs in posts:
        response = client.post(url, headers=_auth(read), **kwargs)
        assert response.status_code == 403, url
        assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    after = (Project.select().count(), Project.get_by_id(draft).state, Item.select().count())
    assert after == before == (1, ProjectState.DRAFT, 4)
    # The same calls with the write token do change things.
    assert client.post(f"{API}/projects/{draft}/publish", headers=_auth(write)).status_code == 200


def test_another_clients_project_is_404_and_members_are_403(
    app, client, owner, draft, make_client_user, make_member
):
    with app.test_request_context():
        other = create_token(make_client_user(), "other", TokenScope.WRITE)[1]
        member = create_token(make_member(), "member", TokenScope.WRITE)[1]
    for method, url in [
        ("GET", f"/projects/{draft}"),
        ("GET", f"/projects/{draft}/answers"),
        ("GET", f"/projects/{draft}/results"),
        ("GET", f"/projects/{draft}/results/proof"),
        ("POST", f"/projects/{draft}/publish"),
        ("POST", f"/projects/{draft}/pause"),
    ]:
        assert client.open(API + url, method=method, headers=_auth(other)).status_code == 404
        assert client.open(API + url, method=method, headers=_auth(member)).status_code == 403
    assert client.get(f"{API}/projects", headers=_auth(other)).json["total"] == 0
    assert Project.get_by_id(draft).state == ProjectState.DRAFT


def _answered(app, owner, pid, make_member, n=3):
    _user, write, _read = owner
    project = ops.publish_project(owner[0], Project.get_by_id(pid))
    with app.test_request_context():
        member = make_member()
        for _ in range(n):
            ops.submit_answer(member, ops.next_assignment(member, project), {"label": "keep"})
    return [a.id for a in Answer.select().where(Answer.project == pid).order_by(Answer.id)]


def test_rejections_are_all_or_none(app, client, owner, draft, make_member):
    _user, write, _read = owner
    ids = _answered(app, owner, draft, make_member)
    good = {"answer": ids[0], "category": "wrong", "reason": "This comment is an insult."}
    for bad in (
        {"answer": ids[1], "category": "rude", "reason": "This comment is an insult."},
        {"answer": ids[1], "category": "wrong", "reason": "no"},
        {"answer": 999_999, "category": "wrong", "reason": "This comment is an insult."},
        {"answer": "x", "category": "wrong", "reason": "This comment is an insult."},
        {"answer": 2**70, "category": "wrong", "reason": "This comment is an insult."},
    ):
        response = client.post(f"{API}/projects/{draft}/reviews", json={"reject": [good, bad]},
                               headers=_auth(write))
        assert response.status_code in (400, 404), bad
        states = {a.state for a in Answer.select().where(Answer.project == draft)}
        assert states == {AnswerState.PENDING}, bad
    done = client.post(f"{API}/projects/{draft}/reviews", json={"reject": [good]},
                       headers=_auth(write))
    assert done.json == {"accepted": 0, "rejected": 1}
    again = client.post(f"{API}/projects/{draft}/reviews", json={"reject": [good]},
                        headers=_auth(write))
    assert again.status_code == 409


@pytest.mark.parametrize(
    "body",
    [{}, {"accept": "some"}, {"accept": []}, {"accept": [True]}, {"accept": [2**70]},
     {"accept": "all", "reject": []},
     {"reject": "all"}, {"reject": [5]}],
)
def test_bad_review_bodies_are_400_and_change_nothing(app, client, owner, draft, make_member,
                                                      body):
    _user, write, _read = owner
    _answered(app, owner, draft, make_member, n=1)
    response = client.post(f"{API}/projects/{draft}/reviews", json=body, headers=_auth(write))
    assert response.status_code == 400, response.json
    assert {a.state for a in Answer.select()} == {AnswerState.PENDING}


def test_an_answer_of_another_project_cannot_be_rejected_through_this_one(
    app, client, owner, draft, make_member
):
    user, write, _read = owner
    ids = _answered(app, owner, draft, make_member, n=1)
    other = client.post(f"{API}/projects", json=_new(), headers=_auth(write)).json["id"]
    response = client.post(
        f"{API}/projects/{other}/reviews",
        json={"reject": [{"answer": ids[0], "category": "wrong",
                          "reason": "This comment is an insult."}]},
        headers=_auth(write),
    )
    assert response.status_code == 404
    assert Answer.get_by_id(ids[0]).state == AnswerState.PENDING


def test_results_arguments_are_checked(client, owner, draft):
    _user, _write, read = owner
    base = f"{API}/projects/{draft}/results"
    assert client.get(f"{base}?format=xml", headers=_auth(read)).status_code == 400
    assert client.get(f"{base}?size=x", headers=_auth(read)).status_code == 400
    wrong = client.get(f"{base}?method=vote", headers=_auth(read))
    assert wrong.status_code == 400 and "method must be one of" in wrong.json["error"]
    assert client.get(f"{base}?size=99999", headers=_auth(read)).status_code == 404
    assert client.get(f"{base}/proof?size=99999", headers=_auth(read)).status_code == 404
    empty = client.get(base, headers=_auth(read))
    assert empty.status_code == 200 and empty.data == b""


def test_a_chunked_upload_over_real_http_is_streamed_in(app, owner, draft):
    """No Content-Length: the body arrives in chunks and is read as it comes."""
    _user, write, _read = owner
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
        rows = (_jsonl([row]) for row in comments(500, start=100))
        connection.request("POST", f"{API}/projects/{draft}/items", body=rows,
                           headers={**_auth(write), "Content-Type": "application/x-ndjson"},
                           encode_chunked=True)
        response = connection.getresponse()
        report = json.loads(response.read())
        connection.close()
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert response.status == 200, report
    assert (report["imported"], report["unchanged"]) == (500, 0)
    assert Project.get_by_id(draft).items_count == 4 + 500
