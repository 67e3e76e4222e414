"""Benchmark answer aggregation (not a test; run it by hand or with `make bench`).

    .venv/bin/python bench/quality.py

Simulates 1,000 items with a known true label among four, overlap 5, answered by 40 members of
varied accuracy (from 55% to 95%), a quarter of whom answer at random; reports the accuracy of
the majority vote and of Dawid–Skene against the truth (seeded: the same figures every run),
then the time each takes to aggregate 100,000 items × 3 answers: wall-clock seconds and the
process's CPU seconds (on a busy machine the CPU figure says more; the load average is
printed). Prints one JSON line.
"""

import json
import os
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coop.quality.aggregate import Method, aggregate  # noqa: E402

LABELS = ["a", "b", "c", "d"]
SEED = 10


def simulate(rng: random.Random, items: int, overlap: int, members: int) -> tuple[list, list]:
    """Return (truth per item, [(member, answer)] per item) from simulated members."""
    spammers = set(rng.sample(range(members), members // 4))
    skill = [rng.uniform(0.55, 0.95) for _ in range(members)]
    truth = [rng.choice(LABELS) for _ in range(items)]
    answers = []
    for label in truth:
        given = []
        for member in rng.sample(range(members), overlap):
            if member in spammers or rng.random() > skill[member]:
                given.append((f"m{member}", {"label": rng.choice(LABELS)}))
            else:
                given.append((f"m{member}", {"label": label}))
        answers.append(given)
    return truth, answers


def accuracy(method: Method, truth: list, answers: list) -> float:
    votes = aggregate(method, answers)
    right = sum(v.answer == {"label": t} for t, v in zip(truth, votes, strict=True))
    return round(right / len(truth), 4)


def seconds(method: Method, answers: list) -> tuple[float, float]:
    """Return (wall, CPU) seconds to aggregate the answers."""
    wall, cpu = time.perf_counter(), time.process_time()
    aggregate(method, answers)
    return round(time.perf_counter() - wall, 3), round(time.process_time() - cpu, 3)


def main() -> None:
    rng = random.Random(SEED)
    truth, answers = simulate(rng, 1_000, 5, 40)
    _truth, big = simulate(rng, 100_000, 3, 40)
    load = round(os.getloadavg()[0], 2)
    majority_wall, majority_cpu = seconds(Method.MAJORITY, big)
    ds_wall, ds_cpu = seconds(Method.DAWID_SKENE, big)
    print(json.dumps({
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "loadavg_1m_at_start": load},
        "items": 1_000, "overlap": 5, "members": 40, "random_share": 0.25, "seed": SEED,
        "majority_vote_accuracy": accuracy(Method.MAJORITY, truth, answers),
        "dawid_skene_accuracy": accuracy(Method.DAWID_SKENE, truth, answers),
        "majority_100k_x3_seconds": majority_wall,
        "majority_100k_x3_cpu_seconds": majority_cpu,
        "dawid_skene_100k_x3_seconds": ds_wall,
        "dawid_skene_100k_x3_cpu_seconds": ds_cpu,
    }))


if __name__ == "__main__":
    main()
