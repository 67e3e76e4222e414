"""Aggregate the answers of items given by several members (overlap > 1), by one of three methods.

- **majority**: the answer most members gave; confidence is its share of the votes.
- **dawid_skene**: Dawid–Skene EM over the whole project (coop/quality/dawid_skene.py): each
  member's reliability is learnt from their agreement with the others, so members answering
  at random lose their say; confidence is the posterior of the chosen answer.
- **most_similar**: for free text, the answer closest to the others (mean difflib ratio);
  confidence is that mean similarity.

Pure functions over answers already read. What is compared is the answer without its free-text
reason, text compared with case and runs of spaces ignored (as gold answers are). Ties go to
the answer given first, so the result depends on nothing but the answers and their order.

Why not Toloka's crowd-kit, the field's library: `pip download crowd-kit -d /tmp/ck` on Python
3.11 (crowd-kit 1.4.2) fetches 45 wheels, 155 MB, among them pyarrow (55 MB), scipy (35 MB),
numpy (17 MB), transformers (14 MB), pandas (12 MB), scikit-learn (9 MB), nltk, tokenizers and
huggingface-hub; installed (`pip install --target`, `du -sh`) they take 753 MB, pyarrow 170 MB
and transformers 129 MB of it. Its Dawid–Skene needs only numpy. So the EM is written here, on
numpy alone (73 MB installed, and needed anyway by the `krippendorff` package that measures
agreement), in about 130 lines with tests of its own. See docs/guide-client.md.
"""

import difflib
import enum
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from coop.quality import dawid_skene

IGNORED = ("reason",)


class Method(enum.StrEnum):
    MAJORITY = "majority"
    DAWID_SKENE = "dawid_skene"
    MOST_SIMILAR = "most_similar"


def _norm(value):
    return " ".join(value.split()).casefold() if isinstance(value, str) else value


def answer_key(answer: dict) -> str:
    """Return what is compared of an answer: its fields but the reason, text normalised."""
    kept = {k: _norm(v) for k, v in answer.items() if k not in IGNORED}
    return json.dumps(kept, sort_keys=True, ensure_ascii=False)


def _kept(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k not in IGNORED}


@dataclass(frozen=True)
class Vote:
    """The aggregated answer of one item: the answer, how sure, how many answers behind it."""

    answer: dict | None
    confidence: float  # majority: votes for it / votes; DS: posterior; text: mean similarity
    votes: int


NOTHING = Vote(None, 0.0, 0)


def majority_vote(answers: Iterable[dict], key_of: Callable[[dict], str] = answer_key) -> Vote:
    """Return the answer most members gave (without reasons), ties to the first given."""
    first: dict[str, dict] = {}
    counts: Counter[str] = Counter()
    for answer in answers:
        key = key_of(answer)
        counts[key] += 1
        if key not in first:
            first[key] = _kept(answer)
    total = sum(counts.values())
    if not total:
        return NOTHING
    # Counter.most_common keeps insertion order among equal counts: the first given wins.
    key, n = counts.most_common(1)[0]
    return Vote(first[key], n / total, total)


def _text(answer: dict) -> str:
    return " ".join(str(_norm(v)) for _k, v in sorted(_kept(answer).items()))


def most_similar(answers: Iterable[dict]) -> Vote:
    """Return the answer whose text is, on average, most like the others', ties to the first."""
    given = list(answers)
    if len(given) < 2:
        return Vote(_kept(given[0]), 1.0, 1) if given else NOTHING
    texts = [_text(a) for a in given]
    n = len(texts)
    sim = [[1.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            sim[i][j] = sim[j][i] = difflib.SequenceMatcher(None, texts[i], texts[j]).ratio()
    means = [(sum(row) - 1.0) / (n - 1) for row in sim]
    best = max(range(n), key=lambda i: (means[i], -i))
    return Vote(_kept(given[best]), means[best], n)


Given = Sequence[tuple[str, dict]]  # an item's answers: (member, answer), in the order given


def dawid_skene_votes(items: Sequence[Given], key_of: Callable[[dict], str] = answer_key,
                      **options) -> list[Vote]:
    """Return the Dawid–Skene answer of each item, learnt from all the items' answers together.

    `options` go to dawid_skene.fit (tol, max_iter).
    """
    labels: dict[str, int] = {}
    members: dict[str, int] = {}
    shown: list[dict] = []  # a label's answer as first given anywhere
    item_of, member_of, label_of = [], [], []
    firsts: list[dict[int, dict]] = []  # per item: label -> its answer as first given there
    for i, given in enumerate(items):
        here: dict[int, dict] = {}
        for member, answer in given:
            key = key_of(answer)
            code = labels.setdefault(key, len(labels))
            if code == len(shown):
                shown.append(_kept(answer))
            if code not in here:
                here[code] = _kept(answer)
            item_of.append(i)
            member_of.append(members.setdefault(member, len(members)))
            label_of.append(code)
        firsts.append(here)
    if not labels:
        return [NOTHING] * len(items)
    answers = dawid_skene.Answers(
        np.array(item_of, dtype=np.intp), np.array(member_of, dtype=np.intp),
        np.array(label_of, dtype=np.intp), len(items), len(members), len(labels),
    )
    found = dawid_skene.fit(answers, **options)
    winners, confidences = dawid_skene.decide(answers, found.posterior)
    votes = []
    for given, here, code, confidence in zip(items, firsts, winners.tolist(),
                                             confidences.tolist(), strict=True):
        if code < 0:
            votes.append(NOTHING)
        else:
            votes.append(Vote(here.get(code, shown[code]), confidence, len(given)))
    return votes


def _keys_once() -> Callable[[dict], str]:
    """Return answer_key remembering the key of each answer object it was given.

    Equal answers read for one download share one object (coop/quality/results.py), so
    300,000 answers hold a handful of distinct ones: their keys are encoded once each. The
    object is kept beside its key, so its id cannot be reused by another while remembered.
    """
    seen: dict[int, tuple[dict, str]] = {}

    def key_of(answer: dict) -> str:
        hit = seen.get(id(answer))
        if hit is None:
            hit = seen[id(answer)] = (answer, answer_key(answer))
        return hit[1]

    return key_of


def aggregate(method: Method, items: Sequence[Given]) -> list[Vote]:
    """Return the aggregated answer of each item by the method, in the items' order."""
    key_of = _keys_once()
    if method is Method.DAWID_SKENE:
        return dawid_skene_votes(items, key_of)
    if method is Method.MOST_SIMILAR:
        return [most_similar(answer for _member, answer in given) for given in items]
    return [majority_vote((answer for _member, answer in given), key_of) for given in items]
