"""Gold items and their contests: gold is read from the upload and checked against the
template, mixed in at the project's rate and paid like any item; a wrong gold answer is marked;
accuracy carries a Wilson interval; a member surely below the threshold after the minimum gold
answers gets no more items, keeps their pay and is told why; a contest holds the gold item for
everybody until the client (or, on appeal, the board) decides; a gold item found wrong is removed,
every score is recomputed and a member who had been cut off works again; all on the ledger."""

import json

import pytest
from projects_support import PRICE, comments, jsonl, keep, make_project

from coop.errors import Conflict, DomainError, Forbidden, NotFound
from coop.models import Event, Parameter
from coop.projects import operations as ops
from coop.projects.models import Answer, AnswerEarning, GoldState, Item
from coop.quality import access, scores
from coop.quality import operations as quality
from coop.quality.models import ContestState, GoldContest

REMOVE = {"label": ["remove"], "reason": ["an insult"]}
WHY = "Calling someone an idiot is an insult under rule 2."


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def events(kind):
    return [json.loads(e.data) for e in Event.select().where(Event.kind == kind)]


def gold_rows(n, start=100, answer="remove"):
    return [
        dict(c, gold_answer={"label": answer}, gold_explanation=WHY)
        for c in comments(n, start)
    ]


def gold_project(client, gold=3, plain=2, threshold=7000, minimum=3, rate=10_000, overlap=2):
    project = make_project(client, items=0, publish=False, budget_cents=PRICE * 100,
                           overlap=overlap)
    report = ops.upload_items(client, project, jsonl(comments(plain) + gold_rows(gold)),
                              "items.jsonl")
    assert report.ok, report.errors
    Parameter.get_or_create(key="quality_min_gold_answers", defaults={"value": "1"})
    project = quality.set_quality_rules(client, project, gold_rate_bp=rate,
                                        accuracy_threshold_bp=threshold,
                                        min_gold_answers=minimum)
    return ops.publish_project(client, project)


def answer_next(member, project, form=None):
    lease = ops.next_assignment(member, project)
    return ops.submit_answer(member, lease, form or keep())


def test_gold_is_read_from_the_upload_and_checked(make_client_user):
    client = make_client_user()
    project = make_project(client, items=0, publish=False)
    rows = [
        {"external_id": "a", "comment": "x", "gold_answer": {"label": "maybe"}},
        {"external_id": "b", "comment": "x", "gold_answer": "not json"},
        {"external_id": "c", "comment": "x", "gold_explanation": "alone"},
        {"external_id": "d", "comment": "x", "gold_answer": {"label": "keep"}},
    ]
    report = ops.upload_items(client, project, jsonl(rows), "items.jsonl")
    assert [line for line, _reason in report.errors] == [1, 2, 3]
    assert "does not fit the template" in report.errors[0][1]
    assert Item.select().count() == 0
    csv = b'external_id,comment,gold_answer,gold_explanation\nd,x,"{""label"": ""keep""}",Fine\n'
    import io

    report = ops.upload_items(client, project, io.BytesIO(csv), "items.csv")
    assert report.ok, report.errors
    item = Item.get()
    assert (json.loads(item.gold_answer), item.gold_explanation, item.gold_state) == (
        {"label": "keep"}, "Fine", GoldState.ACTIVE)
    assert item.data_dict == {"comment": "x"}  # the item looks like any item


def test_gold_is_mixed_at_the_rate_and_marked(make_client_user, make_member):
    client, member = make_client_user(), make_member()
    project = gold_project(client, gold=2, plain=2, rate=10_000)
    first = ops.next_assignment(member, project)
    assert first.item.gold_state == GoldState.ACTIVE  # rate 100%: gold first
    wrong = ops.submit_answer(member, first, keep())
    right = answer_next(member, project, REMOVE)
    plain = answer_next(member, project)
    assert (wrong.gold_correct, right.gold_correct, plain.gold_correct) == (False, True, None)
    other = make_member()
    project = gold_project(make_client_user(), gold=2, plain=2, rate=0)
    assert ops.next_assignment(other, project).item.gold_state == ""  # rate 0: plain first


def test_wilson_interval():
    assert scores.wilson(0, 0) == (0.0, 1.0)
    low, high = scores.wilson(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    low, high = scores.wilson(0, 3)
    assert round(low, 4) == 0.0 and round(high, 4) == 0.5615


def test_the_threshold_is_bounded_by_the_board(make_client_user):
    client = make_client_user()
    project = make_project(client, items=1, publish=False)
    with pytest.raises(DomainError) as refused:
        quality.set_quality_rules(client, project, gold_rate_bp=1000,
                                  accuracy_threshold_bp=9000, min_gold_answers=10)
    assert refused.value.field == "accuracy_threshold_bp"
    with pytest.raises(DomainError) as refused:
        quality.set_quality_rules(client, project, gold_rate_bp=1000,
                                  accuracy_threshold_bp=7000, min_gold_answers=2)
    assert refused.value.field == "min_gold_answers"
    with pytest.raises(NotFound):
        quality.set_quality_rules(make_client_user(), project, gold_rate_bp=1000,
                                  accuracy_threshold_bp=7000, min_gold_answers=10)
    assert not events("project.quality_rules_set")


def _cut_off(client, member):
    project = gold_project(client, gold=3, plain=2)
    answers = [answer_next(member, project) for _ in range(3)]  # "keep": all three wrong
    assert [a.gold_correct for a in answers] == [False, False, False]
    ops.accept_answers(client, project)
    return project, answers


def test_below_threshold_no_more_items_pay_kept(make_client_user, make_member):
    client, member = make_client_user(), make_member()
    project, answers = _cut_off(client, member)
    found = scores.accuracy(member, project)
    assert (found.correct, found.n, found.below) == (0, 3, True)
    paid = [e.earnings_cents for e in AnswerEarning.select()]
    with pytest.raises(access.BelowThreshold, match=r"0% over 3 answers.*70%.*is paid"):
        ops.next_assignment(member, project)
    assert [e.earnings_cents for e in AnswerEarning.select()] == paid and len(paid) == 3
    # Another member is not touched by this one's score.
    assert ops.next_assignment(make_member(), project) is not None


def test_not_cut_before_the_minimum_nor_on_doubt(make_client_user, make_member):
    client, member = make_client_user(), make_member()
    project = gold_project(client, gold=3, plain=2, minimum=3)
    answer_next(member, project)
    answer_next(member, project)
    assert not scores.accuracy(member, project).decided
    assert ops.next_assignment(member, project) is not None
    # 2 of 3 right: the point (67%) is below 70%, but not the interval's top: no cut.
    other = make_member()
    answer_next(other, project, REMOVE)
    answer_next(other, project, REMOVE)
    answer_next(other, project)
    found = scores.accuracy(other, project)
    assert found.n == 3 and found.rate < 0.7 and not found.below


def test_a_contest_holds_the_item_for_everybody(make_client_user, make_member):
    client, member, other = make_client_user(), make_member(), make_member()
    project = gold_project(client, gold=3, plain=2)
    first = answer_next(member, project)
    answer_next(other, project)
    assert scores.accuracy(other, project).n == 1
    contest = quality.contest_gold(member, first, "The comment is ironic, not an insult.")
    assert Item.get_by_id(first.item_id).gold_state == GoldState.CONTESTED
    assert scores.accuracy(other, project).n == 0
    assert scores.accuracy(member, project).n == 0
    with pytest.raises(Conflict):
        quality.contest_gold(member, first, "The comment is ironic, not an insult.")
    (entry,) = events("gold.contested")
    assert entry["member"] == member.pseudonym and "reason_sha256" in entry
    quality.decide_contest(client, contest, wrong=False, note="Rule 2 covers irony too.")
    assert Item.get_by_id(first.item_id).gold_state == GoldState.ACTIVE
    assert scores.accuracy(other, project).n == 1
    assert events("gold.contest_decided")[0]["decision"] == "upheld"


def test_a_gold_found_wrong_restores_a_member_cut_off(make_client_user, make_member):
    client, member = make_client_user(), make_member()
    project, answers = _cut_off(client, member)
    contest = quality.contest_gold(member, answers[0], "Nothing in this comment is insulting.")
    assert ops.next_assignment(member, project) is not None  # held: only 2 counted answers
    with pytest.raises(NotFound):
        quality.decide_contest(make_client_user(), contest, wrong=True, note="Yes, we erred.")
    decided = quality.decide_contest(client, contest, wrong=True, note="Indeed, our mistake.")
    assert decided.state == ContestState.FOUND_WRONG
    item = Item.get_by_id(answers[0].item_id)
    assert (item.gold_state, item.free) == (GoldState.REMOVED, 0)
    assert scores.accuracy(member, project).n == 2
    (entry,) = events("gold.contest_decided")
    assert (entry["decision"], entry["by"], entry["answers_recounted"]) == ("found_wrong",
                                                                          "client", 1)
    assert AnswerEarning.select().count() == 3  # nothing taken back, nothing added


def test_appeal_goes_to_the_board(make_client_user, make_member, make_board):
    client, member, board = make_client_user(), make_member(), make_board()
    project, answers = _cut_off(client, member)
    contest = quality.contest_gold(member, answers[1], "Nothing in this comment is insulting.")
    with pytest.raises(Conflict):
        quality.appeal_contest(member, contest, "The client did not read it at all.")
    contest = quality.decide_contest(client, contest, wrong=False, note="It is an insult.")
    with pytest.raises(access.BelowThreshold):
        ops.next_assignment(member, project)
    contest = quality.appeal_contest(member, contest, "The client did not read it at all.")
    assert Item.get_by_id(answers[1].item_id).gold_state == GoldState.CONTESTED
    assert ops.next_assignment(member, project) is not None
    with pytest.raises(Forbidden):
        quality.decide_appeal(client, contest, wrong=True, note="Fine, it was wrong.")
    quality.decide_appeal(board, contest, wrong=True, note="The word is a name, not an insult.")
    assert events("gold.appeal_decided")[0]["by"] == "board"
    assert [e["member"] for e in events("gold.appealed")] == [member.pseudonym]
    with pytest.raises(Conflict):
        quality.decide_appeal(board, contest, wrong=False, note="Changed our mind again.")


def test_only_ones_own_gold_answer_is_contested(make_client_user, make_member):
    client, member = make_client_user(), make_member()
    project = gold_project(client, gold=1, plain=1, rate=0)
    plain = answer_next(member, project)
    with pytest.raises(NotFound):
        quality.contest_gold(member, plain, "This is not even a gold item.")
    gold = answer_next(member, project)
    with pytest.raises(NotFound):
        quality.contest_gold(make_member(), gold, "Somebody else's answer here.")
    with pytest.raises(DomainError):
        quality.contest_gold(member, gold, "no")
    assert GoldContest.select().count() == 0 and not events("gold.contested")
    assert Answer.select().count() == 2


def test_gold_is_drawn_by_chance_at_the_rate(make_client_user, make_member):
    client, member = make_client_user(), make_member()
    project = gold_project(client, gold=20, plain=20, rate=5000, overlap=1, threshold=0)
    answers = [answer_next(member, project) for _ in range(20)]
    gold = sum(a.gold_correct is not None for a in answers)
    # Binomial(20, 1/2): outside 2..18 once in about 25,000 runs.
    assert 2 <= gold <= 18


def test_a_contested_gold_is_still_handed_out_and_paid(make_client_user, make_member):
    client, member, other = make_client_user(), make_member(), make_member()
    project = gold_project(client, gold=1, plain=0, overlap=2)
    first = answer_next(member, project)
    quality.contest_gold(member, first, "The comment is ironic, not an insult.")
    second = answer_next(other, project)
    assert second.item_id == first.item_id and second.gold_correct is False
    assert scores.accuracy(other, project).n == 0
    assert ops.accept_answers(client, project) == 2


def test_an_appeal_turned_down_counts_the_gold_again(make_client_user, make_member, make_board):
    client, member, board = make_client_user(), make_member(), make_board()
    project, answers = _cut_off(client, member)
    contest = quality.contest_gold(member, answers[2], "Nothing in this comment is insulting.")
    contest = quality.decide_contest(client, contest, wrong=False, note="It is an insult.")
    contest = quality.appeal_contest(member, contest, "The client did not read it at all.")
    assert scores.accuracy(member, project).n == 2
    decided = quality.decide_appeal(board, contest, wrong=False, note="Rule 2 is clear here.")
    assert decided.state == ContestState.APPEAL_UPHELD
    assert Item.get_by_id(answers[2].item_id).gold_state == GoldState.ACTIVE
    assert scores.accuracy(member, project).n == 3
    with pytest.raises(access.BelowThreshold):
        ops.next_assignment(member, project)
    with pytest.raises(Conflict):
        quality.appeal_contest(member, decided, "Once more, the client did not read it.")


def test_voided_gold_answers_count_for_nothing(make_client_user, make_member, make_board):
    from coop.quality import fraud

    client, member, board = make_client_user(), make_member(), make_board()
    project, _answers = _cut_off(client, member)
    assert scores.accuracy(member, project).n == 3
    finding = fraud.report_fraud(client, project, member, "bot", "The same label, every second.")
    fraud.decide_finding(board, finding, upheld=True, note="Upheld: answers came from a script.")
    # The voided answers are no longer the member's work, good or bad.
    assert scores.accuracy(member, project).n == 0
    assert [p for p, _a in scores.accuracies(project)] == []
