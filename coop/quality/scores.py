"""Gold accuracy per member per project, with its Wilson interval, and the cut-off it decides.

Scores are computed from the answers each time they are read, never stored: a gold item that is
contested or found wrong stops counting at once for every member it touched, which is the
recomputation the coop promises, with nothing to forget to update.
"""

import math
from dataclasses import dataclass

from peewee import JOIN, fn

from coop.models import User
from coop.projects.models import Answer, AnswerState, GoldState, Item, Project

Z95 = 1.959963984540054  # the normal quantile for a two-sided 95% interval


def wilson(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Return the Wilson score interval (low, high) of a proportion correct/n; (0, 1) if n = 0."""
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Accuracy:
    """A member's counted gold answers on a project and what they decide."""

    correct: int
    n: int
    threshold_bp: int  # the project's; 0 when it sets none
    min_answers: int

    @property
    def rate(self) -> float | None:
        return self.correct / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.correct, self.n)

    @property
    def decided(self) -> bool:
        """Say whether there are enough gold answers for the threshold to apply."""
        return bool(self.threshold_bp) and self.n >= self.min_answers

    @property
    def below(self) -> bool:
        """Say whether the member is cut off: even the top of the interval is below threshold.

        The doubt goes to the member: a few unlucky answers never stop anybody's work.
        """
        return self.decided and self.interval[1] * 10_000 < self.threshold_bp


def _counted(project: Project):
    # A voided answer (fraud upheld) is no longer the member's work: it counts for nothing.
    return (Answer.project == project.id) & (Answer.gold_correct.is_null(False)) & (
        Item.gold_state == GoldState.ACTIVE
    ) & (Answer.state != AnswerState.VOIDED)


def accuracy(member: User, project: Project) -> Accuracy:
    """Return the member's accuracy on the project's gold items that count now."""
    row = (
        Answer.select(fn.COUNT(Answer.id), fn.SUM(Answer.gold_correct.cast("int")))
        .join(Item, on=(Answer.item == Item.id))
        .where(_counted(project) & (Answer.member == member.id))
        .tuples()
        .first()
    )
    n, correct = row if row else (0, 0)
    return Accuracy(int(correct or 0), int(n or 0), project.accuracy_threshold_bp,
                    project.min_gold_answers)


def accuracies(project: Project) -> list[tuple[str, Accuracy]]:
    """Return (pseudonym, accuracy) for each member with a counted gold answer, by pseudonym."""
    rows = (
        Answer.select(User.pseudonym, fn.COUNT(Answer.id),
                      fn.SUM(Answer.gold_correct.cast("int")))
        .join(Item, on=(Answer.item == Item.id))
        .join(User, JOIN.INNER, on=(Answer.member == User.id))
        .where(_counted(project))
        .group_by(User.pseudonym)
        .order_by(User.pseudonym)
        .tuples()
    )
    return [
        (pseudonym, Accuracy(int(correct or 0), int(n), project.accuracy_threshold_bp,
                             project.min_gold_answers))
        for pseudonym, n, correct in rows
    ]
