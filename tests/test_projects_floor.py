"""The floor on measured time: once a project has floor_check_min_answers answers (a counter
kept with each answer), a median measured time whose net pay misses the floor pauses it with
that reason; resuming is refused with the minimum price until the client raises the price;
raising it tops up every answer already paid, by exactly the difference in cents, on the
ledger and in the month close."""

from datetime import timedelta

import pytest
from projects_support import keep, make_project

from coop.errors import DomainError
from coop.models import Event, Parameter, utcnow
from coop.projects import operations as ops
from coop.projects.models import (
    Answer,
    AnswerEarning,
    Assignment,
    PauseReason,
    Project,
    ProjectState,
)
from coop.statements import operations as statements


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        Parameter.create(key="floor_check_min_answers", value=3)
        yield


def slow_answer(member, project, seconds=100):
    lease = ops.next_assignment(member, project)
    Assignment.update(started_at=utcnow() - timedelta(seconds=seconds)).where(
        Assignment.id == lease.id
    ).execute()
    return ops.submit_answer(member, lease, keep())


def test_a_project_below_the_floor_on_measured_time_pauses(make_client_user, make_member):
    client = make_client_user()
    project = make_project(client, items=10)  # 20 cents, 18 net: the floor allows 54 s
    first = slow_answer(make_member(), project)
    second = slow_answer(make_member(), project)
    assert Project.get_by_id(project.id).state == ProjectState.PUBLISHED  # 2 < 3 answers
    ops.accept_answers(client, project, [first.id, second.id])
    slow_answer(make_member(), project)
    paused = Project.get_by_id(project.id)
    assert (paused.state, paused.pause_reason) == (ProjectState.PAUSED, PauseReason.BELOW_FLOOR)
    with pytest.raises(DomainError, match="not handing out items"):
        ops.next_assignment(make_member(), paused)
    # 100 s at 12 €/h is 34 cents net: 37 cents less 8% (3 cents).
    with pytest.raises(DomainError, match=r"at least €0\.37"):
        ops.publish_project(client, paused)
    with pytest.raises(DomainError, match=r"at least €0\.37"):
        ops.raise_price(client, paused, 36)

    raised = ops.raise_price(client, paused, 37)
    assert (raised.price_cents, raised.pause_reason) == (37, "")
    top_ups = list(AnswerEarning.select().where(AnswerEarning.kind == "top_up"))
    assert sorted(t.answer_id for t in top_ups) == [first.id, second.id]
    assert {(t.price_cents, t.earnings_cents, t.margin_cents) for t in top_ups} == {(17, 16, 1)}
    for answer in (first, second):  # each paid answer now meets the floor on the median
        paid = sum(e.earnings_cents for e in AnswerEarning.select().where(
            AnswerEarning.answer == answer.id))
        assert paid == 34 == ops.floor_pay(1200, 100)
    [entry] = [e.payload for e in Event.select().where(Event.kind == "answers.topped_up")]
    assert entry["answers"] == [first.id, second.id] and entry["earnings_cents"] == 16
    assert ops.publish_project(client, raised).state == ProjectState.PUBLISHED

    month = statements.compute(statements.current_month())
    lines = [t for rows in month.tasks_by_member.values() for t in rows]
    assert [(t["answers"], t["price_cents"], t["earnings_cents"]) for t in lines] == [
        (1, 37, 34), (1, 37, 34)]


def test_the_project_counts_its_answers_for_the_floor_check(make_client_user, make_member):
    project = make_project(make_client_user(), items=10)
    for _ in range(4):
        slow_answer(make_member(), project, seconds=10)
    stored = Answer.select().where(Answer.project == project.id).count()
    assert Project.get_by_id(project.id).answers_count == stored == 4
    assert ops.median_seconds(Project.get_by_id(project.id)) == 10


def test_raising_the_price_needs_a_budget_that_covers_it(make_client_user):
    client = make_client_user()
    project = make_project(client, items=10)  # budget 400 = 10 × 20 × 2
    with pytest.raises(DomainError, match="budget must cover"):
        ops.raise_price(client, project, 41)
    with pytest.raises(DomainError):
        ops.raise_price(client, project, 20)  # not a raise
    raised = ops.raise_price(client, project, 41, budget_cents=410)
    assert (raised.price_cents, raised.budget_cents) == (41, 410)


def test_the_page_tells_the_client_and_takes_the_new_price(app, make_client_user, make_member):
    client = make_client_user()
    project = make_project(client, items=10)
    for _ in range(3):
        slow_answer(make_member(), project)
    web = app.test_client(user=client)
    page = web.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "below the pay floor on measured time" in page and "€0.37" in page
    low = web.post(f"/projects/{project.id}/price", data={"price": "0.30"})
    assert low.status_code == 400 and "at least €0.37" in low.get_data(as_text=True)
    assert web.post(f"/projects/{project.id}/price", data={"price": "0.40"}).status_code == 302
    assert Project.get_by_id(project.id).price_cents == 40
