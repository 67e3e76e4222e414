"""Fraud findings: pay already earned is taken back only when the board upholds a finding of
fraud. A client (on its project) or the board reports a member's answers with a kind and a
reason; the member is told and may answer; the board upholds or dismisses through a
confirmation page. Upholding voids the named answers (all, or those from a date), takes back
their pay as negative earnings in the month in progress (a closed month never changes), leaves
them out of the results and aggregates, and stops the member's work on the project; dismissing
changes nothing; a member below the accuracy threshold without a finding keeps their pay.
Nobody but the member, the reporting client and the board sees a finding. All on the ledger."""

import json
from datetime import timedelta

import pytest
from projects_support import PRICE, keep, make_project

from coop.errors import Conflict, DomainError, Forbidden, NotFound
from coop.models import Event, Notification, NotificationKind, utcnow
from coop.projects import operations as ops
from coop.projects.models import Answer, AnswerEarning, AnswerState, EarningKind
from coop.quality import fraud
from coop.quality import results as quality_results
from coop.quality.aggregate import Method
from coop.quality.models import FindingState
from coop.statements import operations as statements
from coop.statements.models import Period

NET = PRICE - 2  # 8% margin on 20 cents, rounded as coop.money does
BOT = "Every answer came within a second of the item, the same label every time."


def answer_all(member, project, n):
    """Have member answer n items of the project; return the answers."""
    return [ops.submit_answer(member, ops.next_assignment(member, project), keep())
            for _ in range(n)]


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def events(kind):
    return [json.loads(e.data) for e in Event.select().where(Event.kind == kind)]


def earnings_of(member) -> int:
    return sum(e.earnings_cents for e in AnswerEarning.select().where(
        AnswerEarning.member == member.id))


def test_upholding_takes_the_pay_back_and_voids_the_answers(make_client_user, make_member,
                                                            make_board):
    client, cheat, honest, board = make_client_user(), make_member(), make_member(), make_board()
    project = make_project(client, items=4, overlap=2)
    answer_all(cheat, project, 3)
    answer_all(honest, project, 3)
    ops.accept_answers(client, project)
    pending = answer_all(cheat, project, 1)  # given but not yet reviewed: voided unpaid
    assert earnings_of(cheat) == 3 * NET

    finding = fraud.report_fraud(client, project, cheat, "bot", BOT)
    assert finding.state == FindingState.OPEN
    note = Notification.get(Notification.user == cheat.id)
    assert note.kind == NotificationKind.FRAUD_REPORTED
    fraud.answer_finding(cheat, finding, "I answered each one myself, by hand, honestly.")
    decided = fraud.decide_finding(board, finding, upheld=True,
                                   note="Three answers in one second each, same label.")

    assert (decided.state, decided.answers_voided, decided.taken_back_cents) == (
        FindingState.UPHELD, 4, 3 * NET)
    states = {a.state for a in Answer.select().where(Answer.member == cheat.id)}
    assert states == {AnswerState.VOIDED}
    assert earnings_of(cheat) == 0
    clawbacks = AnswerEarning.select().where(AnswerEarning.kind == EarningKind.CLAWBACK)
    assert sorted(c.price_cents for c in clawbacks) == [-PRICE] * 3
    # The honest member keeps everything; the client pays nothing for the voided answers.
    assert earnings_of(honest) == 3 * NET
    spent = sum(e.price_cents for e in AnswerEarning.select())
    assert spent == 3 * PRICE
    # Left out of the aggregates: only the honest member's answers count.
    votes = quality_results.item_votes(project, Method.MAJORITY)
    assert sum(v.votes for v in votes.values()) == 3
    # The voided pending answer can never be paid now.
    with pytest.raises(DomainError):
        ops.accept_answers(client, project, [pending[0].id])
    # No more items for the member on this project.
    with pytest.raises(Forbidden, match="upheld a finding of fraud"):
        ops.next_assignment(cheat, project)
    # The month's figures count the take-back: nothing earned by the cheat this month.
    figures = statements.compute(statements.current_month()).figures
    [row] = [m for m in figures["members"] if m["member_id"] == cheat.id]
    assert (row["earnings_cents"], row["work_share_cents"]) == (0, 0)
    # On the ledger: report, answer, the voided answers, the decision.
    (reported,) = events("fraud.reported")
    assert (reported["member"], reported["fraud_kind"], reported["by"]) == (cheat.pseudonym, "bot",
                                                                       "client")
    assert "reason_sha256" in reported and BOT not in json.dumps(reported)
    assert len(events("fraud.answered")) == 1
    (voided,) = events("answers.voided")
    assert (len(voided["answers"]), voided["earnings_taken_back_cents"]) == (4, 3 * NET)
    (entry,) = events("fraud.decided")
    assert (entry["decision"], entry["answers_voided"]) == ("upheld", 4)
    with pytest.raises(Conflict):
        fraud.decide_finding(board, finding, upheld=False, note="Changed my mind entirely.")


def test_a_finding_from_a_date_names_only_the_later_answers(make_client_user, make_member,
                                                            make_board):
    client, cheat, board = make_client_user(), make_member(), make_board()
    project = make_project(client, items=3)
    early, late = answer_all(cheat, project, 2)
    ops.accept_answers(client, project)
    Answer.update(submitted_at=utcnow() - timedelta(days=5)).where(Answer.id == early.id
                                                                   ).execute()
    since = (utcnow() - timedelta(days=1)).date()
    finding = fraud.report_fraud(client, project, cheat, "copy_paste", BOT, since=since)
    fraud.decide_finding(board, finding, upheld=True, note="The late answers are all copies.")
    assert Answer.get_by_id(early.id).state == AnswerState.ACCEPTED
    assert Answer.get_by_id(late.id).state == AnswerState.VOIDED
    assert earnings_of(cheat) == NET


def test_dismissing_leaves_the_pay_intact(make_client_user, make_member, make_board):
    client, member, board = make_client_user(), make_member(), make_board()
    project = make_project(client, items=3)
    answer_all(member, project, 2)
    ops.accept_answers(client, project)
    finding = fraud.report_fraud(board, project, member, "other", BOT)
    decided = fraud.decide_finding(board, finding, upheld=False,
                                   note="Fast, but the answers are right and varied.")
    assert decided.state == FindingState.DISMISSED
    assert earnings_of(member) == 2 * NET
    assert {a.state for a in Answer.select()} == {AnswerState.ACCEPTED}
    assert not AnswerEarning.select().where(AnswerEarning.kind == EarningKind.CLAWBACK).exists()
    assert ops.next_assignment(member, project) is not None
    assert events("fraud.decided")[0]["decision"] == "dismissed"
    assert events("fraud.reported")[0]["by"] == "board"
    assert not events("answers.voided")


def test_a_take_back_of_a_closed_month_lands_in_the_open_month(make_client_user, make_member,
                                                                make_board):
    client, cheat, board = make_client_user(), make_member(), make_board()
    project = make_project(client, items=2)
    answer_all(cheat, project, 2)
    ops.accept_answers(client, project)
    # The pay was credited last month, which is then closed.
    last_month = statements.current_month(utcnow() - timedelta(days=32))
    start, _end = statements.month_bounds(last_month)
    AnswerEarning.update(unix_ns=start + 10**9).execute()
    period = statements.close_month(board, last_month)
    frozen = period.totals
    assert json.loads(frozen)["earnings_cents"] == 2 * NET

    finding = fraud.report_fraud(client, project, cheat, "bot", BOT)
    fraud.decide_finding(board, finding, upheld=True, note="Every answer came from a script.")
    assert Period.get_by_id(period.id).totals == frozen  # history unchanged
    paid = AnswerEarning.select().where(AnswerEarning.kind == EarningKind.ANSWER)
    assert [e.unix_ns for e in paid] == [start + 10**9] * 2  # the original rows untouched
    figures = statements.compute(statements.current_month()).figures
    [row] = [m for m in figures["members"] if m["member_id"] == cheat.id]
    assert (row["earnings_cents"], row["work_share_cents"]) == (-2 * NET, 0)
    assert figures["totals"]["earnings_cents"] == -2 * NET


def test_below_the_threshold_without_a_finding_pay_is_kept(make_client_user, make_member):
    from test_quality_gold import _cut_off

    from coop.quality import access

    client, member = make_client_user(), make_member()
    project, answers = _cut_off(client, member)
    with pytest.raises(access.BelowThreshold):
        ops.next_assignment(member, project)
    assert earnings_of(member) == 3 * NET
    assert not AnswerEarning.select().where(AnswerEarning.kind == EarningKind.CLAWBACK).exists()
    assert {a.state for a in Answer.select()} == {AnswerState.ACCEPTED}


def test_who_may_report_answer_and_decide(make_client_user, make_member, make_board):
    client, member, other, board = (make_client_user(), make_member(), make_member(),
                                    make_board())
    project = make_project(client, items=3)
    answer_all(member, project, 1)
    with pytest.raises(NotFound):
        fraud.report_fraud(make_client_user(), project, member, "bot", BOT)
    with pytest.raises(NotFound):
        fraud.report_fraud(other, project, member, "bot", BOT)
    with pytest.raises(DomainError) as refused:
        fraud.report_fraud(client, project, other, "bot", BOT)  # no answer of theirs here
    assert refused.value.field == "member"
    with pytest.raises(DomainError) as refused:
        fraud.report_fraud(client, project, member, "bot", "bad")
    assert refused.value.field == "reason"
    with pytest.raises(DomainError) as refused:
        fraud.report_fraud(client, project, member, "lazy", BOT)
    assert refused.value.field == "kind"
    finding = fraud.report_fraud(client, project, member, "bot", BOT)
    with pytest.raises(Conflict):
        fraud.report_fraud(board, project, member, "bot", BOT)
    with pytest.raises(NotFound):
        fraud.answer_finding(other, finding, "It was not me, I was asleep then.")
    with pytest.raises(Forbidden):
        fraud.decide_finding(other, finding, upheld=True, note="I think it was a bot.")
    assert len(events("fraud.reported")) == 1 and not events("fraud.decided")


def test_pages_show_a_finding_to_its_parties_only(app, make_client_user, make_member,
                                                  make_board):
    from conftest import login_client

    client, member, other, board = (make_client_user(), make_member(), make_member(),
                                    make_board())
    project = make_project(client, items=3)
    answer_all(member, project, 1)
    page = login_client(app, client).post(f"/projects/{project.id}/fraud", data={
        "member": member.pseudonym, "kind": "bot", "reason": BOT})
    assert page.status_code == 302
    (finding,) = fraud.FraudFinding.select()
    mine = login_client(app, member).get(f"/fraud-findings/{finding.id}")
    assert mine.status_code == 200 and BOT in mine.get_data(as_text=True)
    answered = login_client(app, member).post(f"/fraud-findings/{finding.id}/answer",
                                              data={"text": "Each answer was mine, by hand."})
    assert answered.status_code == 302
    reports = login_client(app, client).get(f"/projects/{project.id}/fraud").get_data(
        as_text=True)
    assert "waiting for the board" in reports and "by hand" not in reports
    assert "by hand" in login_client(app, board).get("/board/fraud-findings").get_data(
        as_text=True)
    for viewer, url in ((other, f"/fraud-findings/{finding.id}"),
                        (make_client_user(), f"/projects/{project.id}/fraud"),
                        (other, f"/projects/{project.id}/fraud")):
        assert login_client(app, viewer).get(url).status_code == 404
    assert BOT not in login_client(app, other).get("/fraud-findings").get_data(as_text=True)
    # The decision: a page first (nothing changes), then the confirmed form.
    decide = f"/board/fraud-findings/{finding.id}/decide"
    form = {"decision": "upheld", "note": "Same label in under a second, every time."}
    assert login_client(app, board).get(decide).status_code == 200
    assert login_client(app, board).post(decide, data=form).status_code == 200
    assert fraud.FraudFinding.get_by_id(finding.id).state == FindingState.OPEN
    assert login_client(app, board).post(decide, data={**form, "confirmed": "1"}
                                         ).status_code == 302
    assert fraud.FraudFinding.get_by_id(finding.id).state == FindingState.UPHELD
    assert "taken back" in login_client(app, client).get(
        f"/projects/{project.id}/fraud").get_data(as_text=True)


def test_upholding_gives_back_the_items_the_member_holds(make_client_user, make_member,
                                                         make_board):
    client, cheat, board = make_client_user(), make_member(), make_board()
    project = make_project(client, items=3)
    answer_all(cheat, project, 1)
    held = ops.next_assignment(cheat, project)
    finding = fraud.report_fraud(client, project, cheat, "bot", BOT)
    fraud.decide_finding(board, finding, upheld=True, note="Same label in one second, always.")

    # The item the member held goes back to the others; an answer to it is refused.
    with pytest.raises((Conflict, DomainError, Forbidden)):
        ops.submit_answer(cheat, held, keep())
    assert not Answer.select().where(Answer.item == held.item_id).exists()
    other = make_member()
    taken = [ops.next_assignment(other, project).item_id for _ in range(2)]
    assert held.item_id in taken
