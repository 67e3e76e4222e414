"""Project pages: a client creates a project with a form (bad JSON and a price below the
floor are refused with the minimum), uploads items (bad rows listed by line), previews the
member's screen and publishes; a member starts and answers with ONE request per answer (the
response shows the next item), skips, gets a 400 for a bad answer; the client reviews and
downloads results as CSV and JSONL in ledger order; media, assignments and results are only
for those they belong to."""

import csv
import hashlib
import io
import json
import re
from datetime import timedelta

import pytest
from projects_support import MODERATION, make_project

from coop.models import utcnow
from coop.projects import operations as ops
from coop.projects.models import Answer, AnswerState, Assignment, AssignmentState, Project


@pytest.fixture
def owner(make_client_user):
    return make_client_user()


@pytest.fixture
def published(app, owner):
    with app.test_request_context():
        return make_project(owner, items=3)


def form(**overrides):
    data = {
        "title": "Moderate comments",
        "instructions": "Remove insults.",
        "kind": "classify",
        "config": json.dumps({k: v for k, v in MODERATION.items() if k != "kind"}),
        "price": "0.20",
        "estimated_seconds": "30",
        "overlap": "2",
        "deadline": (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "budget": "10",
    }
    data.update(overrides)
    return data


def test_a_client_creates_uploads_previews_and_publishes(app, owner):
    web = app.test_client(user=owner)
    assert web.get("/projects/new").status_code == 200
    bad = web.post("/projects/new", data=form(config="{labels"))
    assert bad.status_code == 400 and b"JSON object" in bad.data
    cheap = web.post("/projects/new", data=form(price="0.10"))
    assert cheap.status_code == 400 and "at least €0.11" in cheap.get_data(as_text=True)
    wrong = web.post("/projects/new", data=form(config='{"labels": ["one"]}'))
    assert wrong.status_code == 400 and b"text field, an image field" in wrong.data
    created = web.post("/projects/new", data=form())
    assert created.status_code == 302
    project = Project.get()
    page = f"/projects/{project.id}"

    rows = b"external_id,comment\nc1,Hello\nc2,\nc3,Bye\n"
    refused = web.post(f"{page}/items", data={"items": (io.BytesIO(rows), "items.csv")})
    assert refused.status_code == 400
    assert "Line 3: missing field comment" in refused.get_data(as_text=True)
    ok = web.post(f"{page}/items", data={"items": (io.BytesIO(rows.replace(b"c2,\n", b"")),
                                                    "items.csv")})
    assert ok.status_code == 302
    assert "2 items imported" in web.get(page).get_data(as_text=True)

    preview = web.get(f"{page}/preview").get_data(as_text=True)
    assert 'type="radio" name="label" value="remove"' in preview and "Hello" in preview
    assert "Remove insults." in preview and "disabled" in preview

    assert web.post(f"{page}/publish").status_code == 302
    assert Project.get_by_id(project.id).state == "published"
    stats = web.get(page).get_data(as_text=True)
    assert "Median measured seconds" in stats


def _lease_id(html: str) -> int:
    return int(re.search(r'/assignments/(\d+)/answer', html)[1])


def test_one_request_per_answer(app, published, make_member):
    member = make_member()
    web = app.test_client(user=member)
    listing = web.get("/projects").get_data(as_text=True)
    assert published.title in listing
    started = web.post(f"/projects/{published.id}/start")
    assert started.status_code == 200
    lease = _lease_id(started.get_data(as_text=True))
    assert web.get(f"/projects/{published.id}/work").status_code == 200

    refused = web.post(f"/assignments/{lease}/answer", data={"label": "maybe"})
    assert refused.status_code == 400 and b"Choose among the labels" in refused.data
    assert _lease_id(refused.get_data(as_text=True)) == lease  # the same item, still leased

    following = web.post(f"/assignments/{lease}/answer", data={"label": "keep"})
    assert following.status_code == 200
    second = _lease_id(following.get_data(as_text=True))
    assert second != lease
    again = web.post(f"/assignments/{lease}/answer", data={"label": "keep"})
    assert again.status_code == 409  # a second send of the same item stores nothing
    skipped = web.post(f"/assignments/{second}/skip", data={"reason": "unclear"})
    third = _lease_id(skipped.get_data(as_text=True))
    done = web.post(f"/assignments/{third}/answer",
                    data={"label": "remove", "reason": "An insult."})
    assert done.status_code == 302 and done.location.endswith(f"/projects/{published.id}")
    assert Answer.select().count() == 2
    assert Assignment.get_by_id(second).state == AssignmentState.SKIPPED


def test_nobody_touches_anothers_assignment(app, published, make_member):
    member, other = make_member(), make_member()
    with app.test_request_context():
        lease = ops.next_assignment(member, published)
    web = app.test_client(user=other)
    assert web.post(f"/assignments/{lease.id}/answer", data={"label": "keep"}).status_code == 404
    assert web.post(f"/assignments/{lease.id}/skip", data={"reason": "unclear"}).status_code == 404
    assert Assignment.get_by_id(lease.id).state == AssignmentState.ACTIVE


def test_review_and_results(app, owner, published, make_member, make_client_user):
    with app.test_request_context():
        for _ in range(3):
            member = make_member()
            ops.submit_answer(member, ops.next_assignment(member, published), {"label": "keep"})
    first, second, third = Answer.select().order_by(Answer.id)
    web = app.test_client(user=owner)
    review = web.get(f"/projects/{published.id}/answers")
    assert review.status_code == 200 and b"keep" in review.data
    accepted = web.post(f"/projects/{published.id}/answers/accept", data={"answer": [first.id]})
    assert accepted.status_code == 302
    rejected = web.post(f"/answers/{second.id}/reject",
                        data={"category": "wrong", "reason": "It is an insult, remove it."})
    assert rejected.status_code == 302
    assert web.post(f"/projects/{published.id}/answers/accept", data={"all": "1"}).status_code \
        == 302
    states = [a.state for a in Answer.select().order_by(Answer.id)]
    assert states == [AnswerState.ACCEPTED, AnswerState.REJECTED, AnswerState.ACCEPTED]
    # The review page names each state in words, not as the stored code.
    page = web.get(f"/projects/{published.id}/answers").get_data(as_text=True)
    assert "Accepted" in page and "Rejected" in page and ">accepted<" not in page

    download = web.get(f"/projects/{published.id}/results.csv")
    assert download.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert rows[0] == ["external_id", "answer", "member", "seconds", "status", "ledger_index",
                       "timestamp", "uncertainty_ms", "answer_sha256", "bounded_after",
                       "bounded_before", "gold", "aggregate", "confidence", "method"]
    assert [r[4] for r in rows[1:]] == ["accepted", "rejected", "accepted"]
    # One answer per item: the item's aggregate is that answer, unless it was rejected.
    kept = ["false", '{"label":"keep"}', "1.0000", "majority"]
    assert [r[11:] for r in rows[1:]] == [kept, ["false", "", "0.0000", "majority"], kept]
    assert [r[1] for r in rows[1:]] == ['{"label":"keep"}'] * 3
    assert all(hashlib.sha256(r[1].encode()).hexdigest() == r[8] for r in rows[1:])
    indexes = [int(r[5]) for r in rows[1:]]
    assert indexes == sorted(indexes)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", rows[1][6])
    lines = web.get(f"/projects/{published.id}/results.jsonl").get_data(as_text=True)
    objects = [json.loads(line) for line in lines.splitlines()]
    assert list(objects[0]) == rows[0]
    assert objects[0]["answer"] == {"label": "keep"}
    assert [o["answer_sha256"] for o in objects] == [first.sha256, second.sha256, third.sha256]
    assert [o["ledger_index"] for o in objects] == indexes

    stranger = app.test_client(user=make_client_user())
    assert stranger.get(f"/projects/{published.id}/results.csv").status_code == 404
    assert stranger.get(f"/projects/{published.id}").status_code == 404
    assert app.test_client().get(f"/projects/{published.id}/results.jsonl").status_code == 302


def test_sensitive_projects_are_hidden_without_the_opt_in(app, owner, make_member):
    with app.test_request_context():
        hidden = make_project(owner, items=1, sensitive=True, content_note="Violence")
    member = make_member()
    web = app.test_client(user=member)
    assert hidden.title not in web.get("/projects").get_data(as_text=True)
    assert web.get(f"/projects/{hidden.id}").status_code == 404
    assert web.post(f"/projects/{hidden.id}/start").status_code == 404


def test_bad_input_gets_a_clear_4xx(app, owner, published):
    web = app.test_client(user=owner)
    deep = web.post("/projects/new", data=form(config="[" * 5000 + "]" * 5000))
    assert deep.status_code == 400 and b"JSON object" in deep.data
    huge = web.post(f"/projects/{published.id}/answers/accept",
                    data={"answer": ["99999999999999999999999"]})
    assert huge.status_code == 400
    assert web.get(f"/projects/{published.id}/answers?page=x").status_code == 404


def test_the_task_board_links_to_projects(app, make_member):
    page = app.test_client(user=make_member()).get("/tasks").get_data(as_text=True)
    assert 'href="/projects"' in page


def test_the_results_lead_with_when_they_were_recorded_and_what_the_proof_is_for(
    app, owner, published, make_member
):
    from coop.audit.ledger import latest_checkpoint
    from coop.audit.receipts import recorded_ns
    from coop.formats import ns_date

    with app.test_request_context():
        member = make_member()
        ops.submit_answer(member, ops.next_assignment(member, published), {"label": "keep"})
    last = latest_checkpoint().size - 1
    web = app.test_client(user=owner)
    page = web.get(f"/projects/{published.id}", headers={"Accept-Language": "fr"})
    lead = re.search(r'<p class="receipt-lead">(.*?)</p>', page.get_data(as_text=True), re.S)
    assert lead, "the results section has no lead sentence"
    text = " ".join(lead.group(1).split())
    assert f"entrée n° {last} du registre public" in text.replace("\xa0", " ")
    assert "permet à chacun de vérifier chaque ligne sans avoir à faire confiance" in text
    with app.test_request_context():
        assert ns_date(recorded_ns(last), locale="fr", zone="Europe/Paris") in text
    assert "heure d’Europe centrale" in text
