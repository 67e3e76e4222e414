"""Dawid–Skene by EM: one M step and one E step match a case worked out by hand; EM settles
(a further round moves nothing) on a simulated crowd; exact ties go to the answer given first;
the same answers always give the same result, and members' names do not matter."""

import random

import numpy as np
import pytest

from coop.quality import dawid_skene as ds
from coop.quality.aggregate import Vote, dawid_skene_votes

S = ds.SMOOTHING
X, Y = 0, 1
A, B, C = 0, 1, 2


def tiny() -> ds.Answers:
    # item 0: A x, B x, C y · item 1: A y, B y, C y · item 2: A x, B x, C x
    item = [0, 0, 0, 1, 1, 1, 2, 2, 2]
    member = [A, B, C] * 3
    label = [X, X, Y, Y, Y, Y, X, X, X]
    return ds.Answers(np.array(item), np.array(member), np.array(label), 3, 3, 2)


def test_one_m_step_by_hand():
    answers = tiny()
    shares = ds.majority_shares(answers)
    assert np.allclose(shares, [[2 / 3, 1 / 3], [0, 1], [1, 0]])
    priors, confusion = ds.m_step(answers, shares)
    assert np.allclose(priors, [5 / 9, 4 / 9])  # ((2/3 + 0 + 1) / 3, (1/3 + 1 + 0) / 3)
    # A (and B) said x on items 0 and 2, y on item 1. Truly x: x weighs 2/3 + 1, y weighs 0;
    # truly y: x weighs 1/3, y weighs 1. Each cell + S, each row normalised.
    a = [[(5 / 3 + S) / (5 / 3 + 2 * S), S / (5 / 3 + 2 * S)],
         [(1 / 3 + S) / (4 / 3 + 2 * S), (1 + S) / (4 / 3 + 2 * S)]]
    # C said y on items 0 and 1, x on item 2. Truly x: x 1, y 2/3; truly y: x 0, y 1/3 + 1.
    c = [[(1 + S) / (5 / 3 + 2 * S), (2 / 3 + S) / (5 / 3 + 2 * S)],
         [S / (4 / 3 + 2 * S), (4 / 3 + S) / (4 / 3 + 2 * S)]]
    assert np.allclose(confusion, [a, a, c])


def test_one_e_step_by_hand():
    answers = tiny()
    priors, confusion = ds.m_step(answers, ds.majority_shares(answers))
    posterior = ds.e_step(answers, priors, confusion)
    a, c = confusion[A], confusion[C]
    # Item 0 (A x, B x, C y): p_k · π_A[k, x] · π_B[k, x] · π_C[k, y], normalised.
    x = 5 / 9 * a[X, X] * a[X, X] * c[X, Y]
    y = 4 / 9 * a[Y, X] * a[Y, X] * c[Y, Y]
    assert posterior[0] == pytest.approx([x / (x + y), y / (x + y)])
    # By hand: 5/9 · 0.99407² · 0.40119 = 0.22025 against 4/9 · 0.25370² · 0.99261 = 0.02839.
    assert posterior[0, X] == pytest.approx(0.22025 / (0.22025 + 0.02839), abs=1e-4)
    assert posterior[1, Y] > 0.99 and posterior[2, X] > 0.99


def simulated(seed: int, items: int = 300, overlap: int = 5, members: int = 20):
    rng = random.Random(seed)
    careless = set(rng.sample(range(members), members // 4))
    skill = [rng.uniform(0.55, 0.95) for _ in range(members)]
    labels = ["a", "b", "c", "d"]
    truth, given = [], []
    for _ in range(items):
        label = rng.choice(labels)
        truth.append(label)
        given.append([
            (f"m{m}", {"label": rng.choice(labels)
                       if m in careless or rng.random() > skill[m] else label})
            for m in rng.sample(range(members), overlap)
        ])
    return truth, given


def codes(given) -> ds.Answers:
    labels, members, item, member, label = {}, {}, [], [], []
    for i, answers in enumerate(given):
        for m, answer in answers:
            item.append(i)
            member.append(members.setdefault(m, len(members)))
            label.append(labels.setdefault(answer["label"], len(labels)))
    return ds.Answers(np.array(item), np.array(member), np.array(label), len(given),
                      len(members), len(labels))


def test_em_converges_to_a_fixed_point():
    answers = codes(simulated(3)[1])
    found = ds.fit(answers)
    assert found.converged and found.iterations < ds.MAX_ITER
    priors, confusion = ds.m_step(answers, found.posterior)
    again = ds.e_step(answers, priors, confusion)
    assert np.abs(again - found.posterior).max() < ds.TOL
    assert np.allclose(found.posterior.sum(axis=1), 1.0)
    # Cut short, it says so.
    assert not ds.fit(answers, max_iter=2).converged


def test_careless_members_get_flat_rows():
    answers = codes(simulated(3, items=600)[1])
    found = ds.fit(answers)
    diagonal = np.einsum("mkk->mk", found.confusion).mean(axis=1)
    # The 5 members answering at random sit at the bottom, near chance (1/4).
    careless = set(random.Random(3).sample(range(20), 5))  # as simulated() drew them
    lowest = set(np.argsort(diagonal)[:5].tolist())
    names = {}
    for given in simulated(3, items=600)[1]:
        for m, _ in given:
            names.setdefault(m, len(names))
    assert lowest == {names[f"m{m}"] for m in careless}
    assert diagonal[sorted(lowest)].max() < 0.45


def test_an_exact_tie_goes_to_the_answer_given_first():
    first = dawid_skene_votes([[("ann", {"label": "x"}), ("bob", {"label": "y"})]])
    assert first == [Vote({"label": "x"}, pytest.approx(0.5), 2)]
    swapped = dawid_skene_votes([[("bob", {"label": "y"}), ("ann", {"label": "x"})]])
    assert swapped[0].answer == {"label": "y"}


def test_nothing_answered_is_nothing():
    assert dawid_skene_votes([[], [("ann", {"label": "x", "reason": "sure"})]]) == [
        Vote(None, 0.0, 0), Vote({"label": "x"}, 1.0, 1)]
    assert dawid_skene_votes([]) == []


def test_the_same_answers_give_the_same_result():
    _truth, given = simulated(7)
    once = dawid_skene_votes(given)
    assert dawid_skene_votes(given) == once
    renamed = [[(f"other-{m}", a) for m, a in answers] for answers in given]
    assert dawid_skene_votes(renamed) == once
