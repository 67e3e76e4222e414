"""How far members agree with each other, and with gold: for the client's quality page.

Krippendorff's alpha for nominal data (the `krippendorff` package) measures agreement beyond
chance over every item answered at least twice: 1 is perfect, 0 what chance gives, below 0
systematic disagreement. The confusion against gold counts, per expected answer of the gold
items that count, which answers members gave. Read together they tell a client where the
problem lies: low agreement with good gold accuracy, or many members giving the same wrong
answer to one expected answer, points at the instructions or the labels, not at the members.

Answers are compared as aggregation compares them (reason left out, text normalised). Rejected
answers do not count. On a large project only the first LIMIT answers are read, and the page
says so: the figures are a sample then, and the page stays quick.
"""

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import krippendorff
import numpy as np

from coop.projects.models import UNCOUNTED, Answer, GoldState, Item, Project
from coop.quality import gold
from coop.quality.aggregate import answer_key

LIMIT = 100_000
COLUMNS = 12  # given answers shown as columns; the rest are added up as "other"


def alpha(units: Iterable[Iterable[str]]) -> float | None:
    """Return Krippendorff's alpha (nominal) of units of values; None when undefined.

    Undefined when no unit has two values, or every value is the same (nothing to tell
    agreement from chance by).
    """
    counts = [Counter(unit) for unit in units]
    counts = [c for c in counts if c.total() >= 2]
    values = sorted({v for c in counts for v in c})
    if not counts or len(values) < 2:
        return None
    column = {v: k for k, v in enumerate(values)}
    matrix = np.zeros((len(counts), len(values)), dtype=np.int64)
    for row, unit in enumerate(counts):
        for value, n in unit.items():
            matrix[row, column[value]] = n
    return float(krippendorff.alpha(value_counts=matrix, level_of_measurement="nominal"))


@dataclass(frozen=True)
class ConfusionRow:
    expected: str
    given: list[int]  # per column of Confusion.columns
    total: int
    correct: int

    @property
    def percent(self) -> int:
        return round(100 * self.correct / self.total) if self.total else 0


@dataclass(frozen=True)
class Confusion:
    """Counts of given answers (columns) per expected answer (rows) on counting gold items."""

    columns: list[str]
    rows: list[ConfusionRow]
    other: bool  # the last column adds up the answers not shown on their own


@dataclass(frozen=True)
class Agreement:
    alpha: float | None
    items: int  # items answered at least twice: the units alpha is computed over
    answers: int  # answers read
    sampled: bool  # only the first LIMIT answers were read
    confusion: Confusion


def _given(expected: dict, answer: dict) -> str:
    """Describe an answer by the fields the gold answer has (a reason is never compared)."""
    return gold.describe(json.dumps({k: answer.get(k, "") for k in expected}))


def confusion(pairs: Iterable[tuple[str, str]], correct: Iterable[bool]) -> Confusion:
    """Tabulate (expected, given) pairs; `correct` says, pair by pair, if it matched gold."""
    table: dict[str, Counter[str]] = {}
    right: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for (expected, given), ok in zip(pairs, correct, strict=True):
        table.setdefault(expected, Counter())[given] += 1
        seen[given] += 1
        right[expected] += ok
    expected_first = sorted(table)
    # Columns: the expected answers first (so the diagonal shows), then the most given others.
    columns = [e for e in expected_first if e in seen]
    columns += [g for g, _n in sorted(seen.items(), key=lambda x: (-x[1], x[0]))
                if g not in columns]
    other = len(columns) > COLUMNS
    shown = columns[: COLUMNS - 1] if other else columns
    rows = []
    for expected in expected_first:
        counts = table[expected]
        given = [counts[c] for c in shown]
        if other:
            given.append(counts.total() - sum(given))
        rows.append(ConfusionRow(expected, given, counts.total(), right[expected]))
    return Confusion(shown, rows, other)


def project_agreement(project: Project) -> Agreement:
    """Return the project's agreement and its confusion against gold, as plain values."""
    rows = (
        Answer.select(Answer.item, Answer.data, Answer.gold_correct, Item.gold_state,
                      Item.gold_answer)
        .join(Item, on=(Answer.item == Item.id))
        .where((Answer.project == project.id) & Answer.state.not_in(UNCOUNTED))
        .order_by(Answer.id)
        .limit(LIMIT + 1)
        .tuples()
    )
    units: dict[int, list[str]] = {}
    pairs, correct = [], []
    read = 0
    for item_id, data, gold_correct, gold_state, gold_answer in rows:
        read += 1
        if read > LIMIT:
            break
        answer = json.loads(data)
        units.setdefault(item_id, []).append(answer_key(answer))
        if gold_state == GoldState.ACTIVE and gold_correct is not None:
            expected = json.loads(gold_answer)
            pairs.append((gold.describe(gold_answer), _given(expected, answer)))
            correct.append(bool(gold_correct))
    return Agreement(
        alpha=alpha(units.values()),
        items=sum(len(u) >= 2 for u in units.values()),
        answers=min(read, LIMIT),
        sampled=read > LIMIT,
        confusion=confusion(pairs, correct),
    )
