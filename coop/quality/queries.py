"""Reads for the quality pages, as plain values: accuracies, gold answers, contests."""

from dataclasses import dataclass

from peewee import JOIN, fn

from coop.models import User
from coop.projects.models import Answer, GoldState, Item, Project
from coop.quality import gold, scores
from coop.quality.models import ContestState, GoldContest


@dataclass(frozen=True)
class Score:
    pseudonym: str
    correct: int
    n: int
    percent: int | None
    low: int
    high: int
    decided: bool
    below: bool


def _score(pseudonym: str, found: scores.Accuracy) -> Score:
    low, high = found.interval
    percent = None if found.rate is None else round(100 * found.rate)
    return Score(pseudonym, found.correct, found.n, percent, round(100 * low),
                 round(100 * high), found.decided, found.below)


@dataclass(frozen=True)
class GoldAnswer:
    answer_id: int
    external_id: str
    given: str
    expected: str  # shown only once the member answered it wrongly
    explanation: str
    correct: bool
    state: str  # the item's GoldState
    contest_id: int | None
    contest_state: str
    decision_note: str


def member_score(member: User, project: Project) -> Score:
    return _score(member.pseudonym, scores.accuracy(member, project))


def client_scores(project: Project) -> list[Score]:
    return [_score(pseudonym, found) for pseudonym, found in scores.accuracies(project)]


def member_gold_answers(member: User, project: Project) -> list[GoldAnswer]:
    """Return the member's answers to the project's gold items, the missed ones explained."""
    rows = (
        Answer.select(Answer, Item, GoldContest)
        .join(Item, on=(Answer.item == Item.id))
        .switch(Answer)
        .join(GoldContest, on=((GoldContest.item == Item.id)
                               & (GoldContest.member == Answer.member)), join_type=JOIN.LEFT_OUTER)
        .where((Answer.project == project.id) & (Answer.member == member.id)
               & Answer.gold_correct.is_null(False))
        .order_by(Answer.id)
    )
    found = []
    for row in rows:
        item = row.item
        contest = getattr(row, "goldcontest", None)
        contest_id = contest.id if contest is not None and contest.id else None
        found.append(GoldAnswer(
            answer_id=row.id,
            external_id=item.external_id,
            given=gold.describe(row.data),
            expected="" if row.gold_correct else gold.describe(item.gold_answer),
            explanation="" if row.gold_correct else item.gold_explanation,
            correct=row.gold_correct,
            state=item.gold_state,
            contest_id=contest_id,
            contest_state=contest.state if contest_id else "",
            decision_note=contest.decision_note if contest_id else "",
        ))
    return found


@dataclass(frozen=True)
class Contest:
    id: int
    project_id: int
    project_title: str
    external_id: str
    expected: str
    explanation: str
    pseudonym: str
    given: str
    reason: str
    appeal_reason: str
    decision_note: str
    state: str


def _contest(contest: GoldContest) -> Contest:
    return Contest(
        id=contest.id,
        project_id=contest.project_id,
        project_title=contest.project.title,
        external_id=contest.item.external_id,
        expected=gold.describe(contest.item.gold_answer),
        explanation=contest.item.gold_explanation,
        pseudonym=contest.member.pseudonym,
        given=gold.describe(contest.answer.data),
        reason=contest.reason,
        appeal_reason=contest.appeal_reason,
        decision_note=contest.decision_note,
        state=contest.state,
    )


def project_contests(project: Project) -> list[Contest]:
    """Return the project's contests, those waiting for the client first."""
    rows = GoldContest.select().where(GoldContest.project == project.id).order_by(
        GoldContest.state != ContestState.OPEN, GoldContest.id
    )
    return [_contest(c) for c in rows]


def appeals() -> list[Contest]:
    """Return the appeals waiting for the board, oldest first."""
    rows = GoldContest.select().where(GoldContest.state == ContestState.APPEALED).order_by(
        GoldContest.appealed_at
    )
    return [_contest(c) for c in rows]


def gold_counts(project: Project) -> dict[str, int]:
    """Return how many of the project's items are gold, by state."""
    counts = {state.value: 0 for state in GoldState}
    rows = (
        Item.select(Item.gold_state, fn.COUNT(Item.id))
        .where((Item.project == project.id) & (Item.gold_state != ""))
        .group_by(Item.gold_state)
        .tuples()
    )
    counts.update({state: int(n) for state, n in rows})
    return counts
