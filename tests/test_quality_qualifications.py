"""Qualifications: a client or the board defines one with a test of gold items; a member takes
the test (each item paid at once, right or wrong, on the ledger), passes or not, holds it until
it expires and may retake only after the waiting period; a project requiring it hands its items
only to holders, the server refusing the others; nobody but the member sees the test answers."""

import io
import json
from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator
from projects_support import MODERATION, comments, jsonl, keep, make_project

from coop.api.openapi import document
from coop.auth.tokens import create_token
from coop.errors import DomainError, Forbidden, NotFound
from coop.models import Event, utcnow
from coop.projects import access, queries
from coop.projects import operations as ops
from coop.projects.models import Answer, AnswerEarning, Project
from coop.quality import qualifications as quals
from coop.quality import sittings
from coop.quality.models import Qualification, Sitting

REMOVE = {"label": ["remove"], "reason": ["an insult"]}


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def gold_rows(n=4):
    # The first half expect "remove", the rest "keep".
    return [
        dict(c, gold_answer={"label": "remove" if i < n // 2 else "keep"},
             gold_explanation="Insults are removed; the rest is kept.")
        for i, c in enumerate(comments(n))
    ]


def make_qualification(actor, rows=None, **overrides):
    fields = dict(
        name="French comment moderation",
        description="Moderating comments in French under a newspaper's charter.",
        instructions="Remove insults; keep the rest.",
        template=MODERATION,
        estimated_seconds=30,
        pass_mark_pct=75,
        validity_days=90,
        retake_days=7,
        stream=jsonl(rows if rows is not None else gold_rows()),
        filename="test.jsonl",
    )
    fields.update(overrides)
    return quals.create_qualification(actor, **fields)


def sit(member, qualification, right: int):
    """Take the whole test, answering the first `right` items right and the rest wrong."""
    quals.start_sitting(member, qualification)
    test = qualification.test
    given = 0
    while (lease := ops.next_assignment(member, test)) is not None:
        expected = json.loads(lease.item.gold_answer)["label"]
        wrong = "keep" if expected == "remove" else "remove"
        label = expected if given < right else wrong
        ops.submit_answer(member, lease, REMOVE if label == "remove" else keep())
        given += 1
    return Sitting.select().where(Sitting.member == member.id).order_by(Sitting.id.desc()).get()


def test_a_client_and_the_board_define_qualifications(make_client_user, make_board,
                                                      make_member):
    client, board = make_client_user(), make_board()
    own = make_qualification(client)
    coop = make_qualification(board, name="Audio transcription")
    assert own.owner_id == client.id and coop.owner_id is None
    assert own.test.is_test and own.test.items_count == 4
    # The coop pays its own tests without margin; a client's carry the usual margin.
    assert coop.test.margin_bp == 0 and own.test.margin_bp > 0
    with pytest.raises(Forbidden):
        make_qualification(make_member())
    created = [json.loads(e.data) for e in Event.select().where(
        Event.kind == "qualification.created")]
    assert [c["owner"] for c in created] == [f"client:{client.id}", "coop"]


def test_a_test_needs_gold_on_every_item_and_stores_nothing_otherwise(make_client_user):
    client = make_client_user()
    rows = gold_rows() + comments(1, start=50)
    with pytest.raises(DomainError) as refused:
        make_qualification(client, rows=rows)
    assert "c50" in refused.value.message
    with pytest.raises(DomainError):
        make_qualification(client, pass_mark_pct=0)
    assert Qualification.select().count() == 0 and Project.select().count() == 0


def test_passing_paying_and_expiry(make_client_user, make_member):
    qualification = make_qualification(make_client_user())
    member = make_member()
    with pytest.raises(sittings.NoSitting):
        ops.next_assignment(member, qualification.test)
    sitting = sit(member, qualification, right=3)
    assert (sitting.correct, sitting.total, sitting.passed) == (3, 4, True)
    assert sitting.expires_at - sitting.finished_at == timedelta(days=90)
    # Every test item is paid at once, right or wrong, with its ledger entries.
    paid = AnswerEarning.select().where(AnswerEarning.member == member.id)
    assert paid.count() == 4
    assert {e.price_cents for e in paid} == {qualification.test.price_cents}
    assert Answer.select().where(Answer.state != "accepted").count() == 0
    assert Event.select().where(Event.kind == "answer.submitted").count() == 4
    finished = Event.get(Event.kind == "qualification.sitting_finished")
    assert "passed" not in finished.data and "correct" not in finished.data
    assert sittings.holding(member, qualification, utcnow()) is not None
    assert sittings.holding(member, qualification, utcnow() + timedelta(days=91)) is None


def test_a_failed_test_is_retaken_only_after_the_wait(make_client_user, make_member):
    qualification = make_qualification(make_client_user())
    member = make_member()
    first = sit(member, qualification, right=2)
    assert first.passed is False and first.expires_at is None
    with pytest.raises(DomainError) as refused:
        quals.start_sitting(member, qualification)
    assert "again from" in refused.value.message
    Sitting.update(finished_at=utcnow() - timedelta(days=8)).where(
        Sitting.id == first.id).execute()
    second = sit(member, qualification, right=4)
    assert (second.number, second.passed) == (2, True)
    # The retake answered the same items again, in a sitting of its own.
    assert Answer.select().where(Answer.member == member.id).count() == 8


def test_a_project_requiring_a_qualification_refuses_non_holders(make_client_user,
                                                                  make_member):
    client = make_client_user()
    qualification = make_qualification(client)
    project = make_project(client, items=3)
    quals.require_qualification(client, project, qualification)
    holder, other = make_member(), make_member()
    sit(holder, qualification, right=4)
    with pytest.raises(sittings.NotQualified) as refused:
        ops.next_assignment(other, project)
    assert "French comment moderation" in refused.value.message
    assert ops.next_assignment(holder, project) is not None
    # Once the pass expires, the holder is refused too.
    Sitting.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    ops.submit_answer(holder, ops.current_assignment(holder, project), keep())
    with pytest.raises(sittings.NotQualified):
        ops.next_assignment(holder, project)


def test_a_client_requires_only_its_own_or_the_coops(make_client_user, make_board):
    client, rival = make_client_user(), make_client_user()
    project = make_project(client, items=1)
    with pytest.raises(NotFound):
        quals.require_qualification(client, project, make_qualification(rival))
    quals.require_qualification(client, project, make_qualification(make_board()))
    with pytest.raises(NotFound):
        quals.require_qualification(rival, project, make_qualification(rival, name="Other"))


def test_nobody_else_sees_a_members_test_answers(make_client_user, make_board, make_member):
    client = make_client_user()
    qualification = make_qualification(client)
    member = make_member()
    sit(member, qualification, right=1)
    test_id = qualification.test_id
    answer = Answer.select().where(Answer.member == member.id).first()
    with pytest.raises(NotFound):
        access.client_project(client, test_id)
    with pytest.raises(NotFound):
        access.client_answer(client, answer.id)
    with pytest.raises(NotFound):
        access.visible_project(client, test_id)
    assert queries.projects_for_client(client) == []
    assert queries.projects_for_member(member) == []


def _form(rows, **overrides):
    data = {
        "name": "French comment moderation",
        "description": "Moderating comments in French under a newspaper's charter.",
        "instructions": "Remove insults; keep the rest.",
        "kind": "classify",
        "config": json.dumps({k: v for k, v in MODERATION.items() if k != "kind"}),
        "estimated_seconds": "30",
        "pass_mark": "75",
        "validity_days": "90",
        "retake_days": "7",
        "items": (io.BytesIO(jsonl(rows).getvalue()), "test.jsonl"),
    }
    data.update(overrides)
    return data


def test_the_pages_as_people_use_them(app, make_client_user, make_member):
    client_user, member, other = make_client_user(), make_member(), make_member()
    client_web = app.test_client(user=client_user)
    # A bad file is refused with the line and the reason; nothing is stored.
    response = client_web.post("/qualifications/new",
                               data=_form(gold_rows() + comments(1, start=50)))
    assert response.status_code == 400 and "c50" in response.get_data(as_text=True)
    assert Qualification.select().count() == 0
    response = client_web.post("/qualifications/new", data=_form(gold_rows()))
    assert response.status_code == 302
    qualification = Qualification.get()
    with app.test_request_context():
        project = make_project(client_user, items=3)
    response = client_web.post(f"/projects/{project.id}/qualifications",
                               data={"qualification": qualification.id})
    assert response.status_code == 302
    page = client_web.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "0 members hold it now" in page

    # A member without it is told why, with a link to the test; the server refuses too.
    member_web = app.test_client(user=member)
    page = member_web.get(f"/projects/{project.id}").get_data(as_text=True)
    assert f"/qualifications/{qualification.id}" in page and "Start working" not in page
    refused = member_web.post(f"/projects/{project.id}/start")
    assert refused.status_code == 403
    assert "French comment moderation" in refused.get_data(as_text=True)

    # The member takes the test on the work screen, answer by answer, and passes.
    response = member_web.post(f"/qualifications/{qualification.id}/take")
    assert response.status_code == 302 and "/work" in response.location
    while (lease := ops.current_assignment(member, qualification.test)) is not None:
        expected = json.loads(lease.item.gold_answer)["label"]
        form = {"label": expected, "reason": "an insult"} if expected == "remove" else {
            "label": "keep"}
        response = member_web.post(f"/assignments/{lease.id}/answer", data=form)
        assert response.status_code in (200, 302)
    assert response.status_code == 302
    assert response.location.endswith(f"/qualifications/{qualification.id}")
    page = member_web.get(response.location).get_data(as_text=True)
    assert "You hold it until" in page and "Your last test" in page
    page = member_web.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "you hold it until" in page and "Start working" in page
    assert member_web.post(f"/projects/{project.id}/start").status_code == 200

    # Nobody else sees the member's results: not the client, not another member.
    page = client_web.get(f"/qualifications/{qualification.id}").get_data(as_text=True)
    assert "1 member holds it now" in page and "Your last test" not in page
    assert member.pseudonym not in page
    page = app.test_client(user=other).get(
        f"/qualifications/{qualification.id}").get_data(as_text=True)
    assert "Not held yet" in page and "Your last test" not in page
    test_id = qualification.test_id
    assert client_web.get(f"/projects/{test_id}/answers").status_code == 404
    assert client_web.get(f"/projects/{test_id}/results.csv").status_code == 404
    assert client_web.get(f"/projects/{test_id}/quality").status_code == 404
    # Not even the member: a test has no quality page showing the expected answers.
    assert member_web.get(f"/projects/{test_id}/quality").status_code == 404


def test_the_api_says_what_a_project_requires_and_how_many_hold_it(app, make_client_user,
                                                                    make_member):
    client_user = make_client_user()
    qualification = make_qualification(client_user)
    project = make_project(client_user, items=1, fair_share=True)
    quals.require_qualification(client_user, project, qualification)
    sit(make_member(), qualification, right=4)
    token = create_token(client_user, "dash")[1]
    web = app.test_client()
    body = web.get(f"/api/v1/projects/{project.id}",
                   headers={"Authorization": f"Bearer {token}"}).json
    assert body["fair_share"] is True
    assert body["qualifications"] == [
        {"id": qualification.id, "name": "French comment moderation", "holders": 1}
    ]
    doc = document()
    Draft202012Validator({**doc["components"]["schemas"]["Project"],
                          "components": doc["components"]}).validate(body)
    # The test itself is no project of the client's in the API.
    listed = web.get("/api/v1/projects", headers={"Authorization": f"Bearer {token}"}).json
    assert [p["id"] for p in listed["projects"]] == [project.id]
    assert web.get(f"/api/v1/projects/{qualification.test_id}",
                   headers={"Authorization": f"Bearer {token}"}).status_code == 404


def test_the_board_sees_how_many_hold_the_coops_qualification_not_who(app, make_board,
                                                                       make_member):
    board, member = make_board(), make_member()
    qualification = make_qualification(board, name="Audio transcription")
    sit(member, qualification, right=4)
    web = app.test_client(user=board)
    for url in ("/qualifications", f"/qualifications/{qualification.id}"):
        page = web.get(url).get_data(as_text=True)
        assert "1 member holds it now" in page and member.pseudonym not in page
    # A member sees their own standing, not the count.
    page = app.test_client(user=member).get(f"/qualifications/{qualification.id}")
    assert "You hold it until" in page.get_data(as_text=True)
    assert "holds it now" not in page.get_data(as_text=True)
