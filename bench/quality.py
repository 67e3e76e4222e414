"""Benchmark answer aggregation (not a test; run it by hand).

    .venv/bin/python bench/quality.py

Simulates 1,000 items with a known true label among four, overlap 5, answered by 40 members of
varied accuracy (from 55% to 95%), a quarter of whom answer at random; reports the accuracy of
the majority vote against the truth, then the time to aggregate 100,000 items × 3 answers.
Prints one JSON line. Dawid–Skene is not measured: it is not offered yet (see
coop/quality/aggregate.py for why).
"""

import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coop.quality.aggregate import majority_vote  # noqa: E402

LABELS = ["a", "b", "c", "d"]
SEED = 10


def simulate(rng: random.Random, items: int, overlap: int, members: int) -> tuple[list, list]:
    """Return (truth per item, answers per item) from simulated members."""
    spammers = set(rng.sample(range(members), members // 4))
    skill = [rng.uniform(0.55, 0.95) for _ in range(members)]
    truth = [rng.choice(LABELS) for _ in range(items)]
    answers = []
    for label in truth:
        given = []
        for member in rng.sample(range(members), overlap):
            if member in spammers or rng.random() > skill[member]:
                given.append({"label": rng.choice(LABELS)})
            else:
                given.append({"label": label})
        answers.append(given)
    return truth, answers


def main() -> None:
    rng = random.Random(SEED)
    truth, answers = simulate(rng, 1_000, 5, 40)
    right = sum(majority_vote(a).answer == {"label": t} for t, a in zip(truth, answers,
                                                                      strict=True))
    _truth, big = simulate(rng, 100_000, 3, 40)
    start = time.perf_counter()
    for given in big:
        majority_vote(given)
    seconds = time.perf_counter() - start
    print(json.dumps({
        "items": 1_000, "overlap": 5, "members": 40, "random_share": 0.25,
        "majority_vote_accuracy": round(right / 1_000, 4),
        "dawid_skene_accuracy": None,
        "aggregate_100k_x3_seconds": round(seconds, 3),
    }))


if __name__ == "__main__":
    main()
