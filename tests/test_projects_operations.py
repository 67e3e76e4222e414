"""Project operations: the floor on net pay (and the minimum price it names), the budget,
the states and their transitions, leases (never the same item twice to a member, never more
leases than answers wanted, an expired lease gives the item back), measured time capped at
the idle cap, skips, the answer's ledger entry per the shared contract, review (bulk accept,
reject with a reason, auto-accept by `coop tick`) and the earnings it credits at the margin
fixed when the project was published."""

import hashlib
import json
from datetime import timedelta

import pytest
from projects_support import PRICE, SECONDS, jsonl, keep, make_project

from coop.errors import Conflict, DomainError, Forbidden
from coop.models import Event, MemberStatus, Parameter, utcnow
from coop.projects import operations as ops
from coop.projects.models import (
    Answer,
    AnswerEarning,
    AnswerState,
    Assignment,
    AssignmentState,
    Item,
    Project,
    ProjectState,
)
from coop.projects.templates import answer_bytes


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def events(kind):
    return [e.payload for e in Event.select().where(Event.kind == kind).order_by(Event.id)]


def test_minimum_price_is_exact_for_net_pay():
    # 12 €/h for 30 s is 10 cents net; 11 cents less 8% (1 cent) pays 10, 10 cents pays 9.
    assert ops.minimum_item_price(1200, 800, 30) == 11
    for floor in (100, 1200, 1999):
        for margin in (0, 800, 5000):
            for seconds in (1, 7, 30, 3600):
                price = ops.minimum_item_price(floor, margin, seconds)
                need = ops.floor_pay(floor, seconds)
                assert ops.net_of(price, margin) >= need
                assert price == 1 or ops.net_of(price - 1, margin) < need


def test_a_price_below_the_floor_is_refused_with_the_minimum(make_client_user):
    with pytest.raises(DomainError, match=r"at least €0\.11") as refused:
        make_project(make_client_user(), price_cents=10, publish=False, items=0)
    assert refused.value.field == "price"
    assert Project.select().count() == 0


def test_only_clients_create_projects(make_member):
    with pytest.raises(Forbidden):
        make_project(make_member(), publish=False, items=0)


def test_the_budget_must_cover_every_answer(make_client_user):
    client = make_client_user()
    project = make_project(client, items=5, overlap=2, publish=False, budget_cents=PRICE * 9)
    with pytest.raises(DomainError, match=r"at least €2\.00"):
        ops.publish_project(client, project)
    assert Project.get_by_id(project.id).state == ProjectState.DRAFT


def test_states_move_only_as_allowed(make_client_user):
    client = make_client_user()
    empty = make_project(client, items=0, publish=False)
    with pytest.raises(DomainError, match="Upload items"):
        ops.publish_project(client, empty)
    project = make_project(client, items=2, publish=False)
    with pytest.raises(Conflict):
        ops.pause_project(client, project)
    project = ops.publish_project(client, project)
    assert events("project.published")[0]["margin_bp"] == 800
    with pytest.raises(DomainError, match="paused"):
        ops.upload_items(client, project, jsonl([{"external_id": "x", "comment": "y"}]), "a.jsonl")
    project = ops.pause_project(client, project)
    report = ops.upload_items(client, project, jsonl([{"external_id": "x", "comment": "y"}]),
                              "a.jsonl")
    assert report.imported == 1
    project = ops.publish_project(client, project)
    assert project.state == ProjectState.PUBLISHED and project.items_count == 3
    project = ops.cancel_project(client, project)
    with pytest.raises(Conflict):
        ops.publish_project(client, project)


def test_another_clients_project_is_not_found(make_client_user):
    project = make_project(make_client_user(), publish=False)
    with pytest.raises(DomainError) as refused:
        ops.publish_project(make_client_user(), project)
    assert refused.value.status == 404


def test_leases_respect_overlap_and_never_repeat_an_item(make_client_user, make_member):
    project = make_project(make_client_user(), items=2, overlap=2)
    a, b, c = make_member(), make_member(), make_member()
    first = ops.next_assignment(a, project)
    assert ops.next_assignment(a, project).id == first.id  # the open lease comes back
    second = ops.answer_and_next(a, first, keep())[1].assignment
    assert second.item_id != first.item_id
    ops.answer_and_next(a, second, keep())
    assert ops.next_assignment(a, project) is None  # both items answered by a
    b_lease = ops.next_assignment(b, project)
    c_lease = ops.next_assignment(c, project)
    assert b_lease.item_id != c_lease.item_id  # each item wants one more answer
    assert ops.next_assignment(make_member(), project) is None  # leased out, none left
    for item in Item.select():
        assert item.answers_count + item.active_count + item.free == project.overlap


def test_an_expired_lease_returns_the_item(make_client_user, make_member):
    project = make_project(make_client_user(), items=1)
    slow, other = make_member(), make_member()
    lease = ops.next_assignment(slow, project)
    assert ops.next_assignment(other, project) is None
    Assignment.update(expires_at=utcnow() - timedelta(seconds=1)).where(
        Assignment.id == lease.id
    ).execute()
    taken = ops.next_assignment(other, project)
    assert taken.item_id == lease.item_id
    assert Assignment.get_by_id(lease.id).state == AssignmentState.EXPIRED
    with pytest.raises(Conflict, match="no longer yours"):
        ops.submit_answer(slow, lease, keep())
    assert Answer.select().count() == 0


def test_tick_expires_leases(make_client_user, make_member, runner):
    project = make_project(make_client_user(), items=1)
    lease = ops.next_assignment(make_member(), project)
    Assignment.update(expires_at=utcnow() - timedelta(seconds=1)).execute()
    result = runner.invoke(args=["tick"])
    assert "1 expired project lease(s) returned" in result.output, result.output
    assert Assignment.get_by_id(lease.id).state == AssignmentState.EXPIRED
    item = Item.get_by_id(lease.item_id)
    assert (item.active_count, item.free) == (0, 1)


def test_the_answer_goes_on_the_ledger_per_the_contract(make_client_user, make_member):
    project = make_project(make_client_user(), items=1)
    member = make_member()
    lease = ops.next_assignment(member, project)
    Assignment.update(started_at=utcnow() - timedelta(seconds=12)).execute()
    answer = ops.submit_answer(
        member, lease, {"label": ["remove"], "reason": "Insults a named person."}
    )
    expected = {"label": "remove", "reason": "Insults a named person."}
    assert json.loads(answer.data) == expected
    digest = hashlib.sha256(answer_bytes(expected)).hexdigest()
    assert answer_bytes(expected) == b'{"label":"remove","reason":"Insults a named person."}'
    assert 12 <= answer.seconds <= 14
    [entry] = events("answer.submitted")
    assert entry == {
        "project": project.id,
        "item": hashlib.sha256(b"c0").hexdigest(),
        "answer_sha256": digest,
        "member": member.pseudonym,
        "seconds": answer.seconds,
    }
    event = Event.get(Event.kind == "answer.submitted")
    assert event.subject == f"answer:{answer.id}"
    assert (answer.ledger_index, answer.unix_ns) == (event.ledger_index, event.unix_ns)
    # The last answer wanted finishes the project.
    assert Project.get_by_id(project.id).state == ProjectState.FINISHED


def test_measured_time_stops_at_the_idle_cap(make_client_user, make_member):
    project = make_project(make_client_user(), items=1)
    member = make_member()
    lease = ops.next_assignment(member, project)
    Assignment.update(started_at=utcnow() - timedelta(hours=2)).execute()
    answer = ops.submit_answer(member, lease, keep())
    assert answer.seconds == ops.IDLE_FACTOR * SECONDS


def test_a_bad_answer_is_refused_and_changes_nothing(make_client_user, make_member):
    project = make_project(make_client_user(), items=1)
    member = make_member()
    lease = ops.next_assignment(member, project)
    for bad, message in [
        ({}, "Choose a label"),
        ({"label": ["maybe"]}, "among the labels"),
        ({"label": ["remove"]}, "reason needs at least"),
    ]:
        with pytest.raises(DomainError, match=message):
            ops.submit_answer(member, lease, bad)
    assert Answer.select().count() == 0 and Event.select().count() == 1  # project.published
    assert Assignment.get_by_id(lease.id).state == AssignmentState.ACTIVE


def test_skip_gives_the_item_to_someone_else(make_client_user, make_member):
    project = make_project(make_client_user(), items=1)
    member, other = make_member(), make_member()
    lease = ops.next_assignment(member, project)
    with pytest.raises(DomainError):
        ops.skip_item(member, lease, "bored")
    assert ops.skip_and_next(member, lease, "distressing").assignment is None
    assert Assignment.get_by_id(lease.id).skip_reason == "distressing"
    assert ops.next_assignment(member, project) is None  # never the same item again
    assert ops.next_assignment(other, project).item_id == lease.item_id


def test_members_must_be_active_and_opted_in_for_sensitive(make_client_user, make_member):
    client = make_client_user()
    sensitive = make_project(client, items=1, sensitive=True, content_note="Graphic violence")
    with pytest.raises(DomainError, match="sensitive"):
        ops.next_assignment(make_member(), sensitive)
    assert ops.next_assignment(make_member(sensitive_opt_in=True), sensitive) is not None
    applicant = make_member(member_status=MemberStatus.APPLICANT)
    with pytest.raises(Forbidden):
        ops.next_assignment(applicant, make_project(client, items=1))


def _answers(project, members):
    for member in members:
        lease = ops.next_assignment(member, project)
        ops.submit_answer(member, lease, keep())
    return list(Answer.select().order_by(Answer.id))


def test_accept_in_bulk_pays_at_the_margin_fixed_when_published(make_client_user, make_member):
    client = make_client_user()
    project = make_project(client, items=3)
    Parameter.create(key="margin_bp", value=5000)  # raised after publishing: pay is not cut
    answers = _answers(project, [make_member() for _ in range(3)])
    assert ops.accept_answers(client, project, [answers[0].id]) == 1
    assert ops.accept_answers(client, project) == 2
    with pytest.raises(DomainError, match="No answer waiting"):
        ops.accept_answers(client, project)
    earnings = list(AnswerEarning.select().order_by(AnswerEarning.answer))
    assert [(e.price_cents, e.earnings_cents, e.margin_cents) for e in earnings] == [
        (PRICE, 18, 2)
    ] * 3
    reviewed = events("answers.reviewed")
    assert [r["answers"] for r in reviewed] == [[answers[0].id], [answers[1].id, answers[2].id]]
    assert {r["action"] for r in reviewed} == {"accept"}
    last = Event.select().where(Event.kind == "answers.reviewed").order_by(Event.id.desc()).get()
    assert earnings[-1].unix_ns == last.unix_ns and earnings[-1].ledger_index == last.ledger_index


def test_reject_needs_a_category_and_a_meaningful_reason(make_client_user, make_member):
    client = make_client_user()
    project = make_project(client, items=1)
    [answer] = _answers(project, [make_member()])
    with pytest.raises(DomainError):
        ops.reject_answer(client, answer, "rude", "This is plainly wrong.")
    with pytest.raises(DomainError, match="in a sentence"):
        ops.reject_answer(client, answer, "wrong", "..........")
    rejected = ops.reject_answer(client, answer, "wrong", "It is an insult: remove it.")
    assert (rejected.state, rejected.reject_category) == (AnswerState.REJECTED, "wrong")
    with pytest.raises(Conflict):
        ops.reject_answer(client, answer, "wrong", "It is an insult: remove it.")
    [entry] = events("answers.reviewed")
    assert entry["action"] == "reject" and entry["answers"] == [answer.id]
    assert entry["reason_sha256"] == hashlib.sha256(b"It is an insult: remove it.").hexdigest()
    assert AnswerEarning.select().count() == 0


def test_tick_accepts_answers_after_the_review_window(make_client_user, make_member, runner):
    client = make_client_user()
    project = make_project(client, items=2)
    old, fresh = _answers(project, [make_member(), make_member()])
    Answer.update(submitted_at=utcnow() - timedelta(hours=73)).where(
        Answer.id == old.id
    ).execute()
    result = runner.invoke(args=["tick"])
    assert "1 project answer(s) left unreviewed past the window accepted" in result.output
    assert Answer.get_by_id(old.id).state == AnswerState.ACCEPTED
    assert Answer.get_by_id(old.id).auto_accepted
    assert Answer.get_by_id(fresh.id).state == AnswerState.PENDING
    assert events("answers.reviewed")[0]["action"] == "auto_accept"
    assert AnswerEarning.get().answer_id == old.id
    again = runner.invoke(args=["tick"])
    assert "0 project answer(s)" in again.output


def test_a_big_bulk_review_takes_one_entry_per_64_answers(make_client_user, make_member):
    client = make_client_user()
    project = make_project(client, items=65, overlap=2)
    for member in (make_member(), make_member()):
        lease = ops.next_assignment(member, project)
        while lease is not None:
            lease = ops.answer_and_next(member, lease, keep())[1].assignment
    assert ops.accept_answers(client, project) == 130
    reviewed = events("answers.reviewed")
    assert [len(r["answers"]) for r in reviewed] == [64, 64, 2]
    ids = [i for r in reviewed for i in r["answers"]]
    assert sorted(ids) == [a.id for a in Answer.select().order_by(Answer.id)]
    assert AnswerEarning.select().count() == 130
