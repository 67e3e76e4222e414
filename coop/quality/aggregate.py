"""Aggregate the answers of an item given by several members (overlap > 1): majority vote.

A pure function over answers already read: what is compared is the answer without its free-text
reason, text compared with case and runs of spaces ignored (as gold answers are). Ties go to the
answer given first, so the result does not depend on anything but the answers and their order.
Dawid–Skene is not offered yet: the library the field uses (Toloka's crowd-kit) brings pandas,
scikit-learn, pyarrow, nltk and transformers with it (see docs/guide-client.md).
"""

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

IGNORED = ("reason",)


def _key(answer: dict) -> str:
    def norm(value):
        return " ".join(value.split()).casefold() if isinstance(value, str) else value

    kept = {k: norm(v) for k, v in answer.items() if k not in IGNORED}
    return json.dumps(kept, sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class Vote:
    """The aggregated answer of one item: the winner, its share of the votes and the count."""

    answer: dict | None
    confidence: float  # votes for the winner / votes
    votes: int


def majority_vote(answers: Iterable[dict]) -> Vote:
    """Return the answer most members gave (without reasons), ties to the first given."""
    first: dict[str, dict] = {}
    counts: Counter[str] = Counter()
    for answer in answers:
        key = _key(answer)
        counts[key] += 1
        first.setdefault(key, {k: v for k, v in answer.items() if k not in IGNORED})
    total = sum(counts.values())
    if not total:
        return Vote(None, 0.0, 0)
    # Counter.most_common keeps insertion order among equal counts: the first given wins.
    key, n = counts.most_common(1)[0]
    return Vote(first[key], n / total, total)
