"""Dawid–Skene: the true label of each item and each member's confusion matrix, by EM.

Dawid & Skene (1979), "Maximum likelihood estimation of observer error-rates using the EM
algorithm". Each member m has a confusion matrix π_m[k, l] (the chance they answer l when the
truth is k) and the labels have priors p_k. Starting from the majority vote's shares, EM
alternates

- M step: p_k = mean over items of T[i, k];  π_m[k, l] ∝ Σ over m's answers l to item i of
  T[i, k], plus SMOOTHING (so a member never seen answering l under k is unlikely, not
  impossible: a zero would veto a label for good);
- E step: T[i, k] ∝ p_k · Π over the answers (m, l) to item i of π_m[k, l],

until no posterior moves by more than `tol`, or `max_iter` rounds. A member who answers at
random gets flat rows and so little say; a reliable one, a sharp diagonal and much say. This
is why it beats the majority vote when some members are careless.

Answers are integer codes (labels and members numbered by the caller); all sums are numpy
bincounts over the answers, so a round costs O(answers × labels). Deterministic: the same
answers in the same order give the same result, ties included (see `decide`).
"""

from dataclasses import dataclass

import numpy as np

SMOOTHING = 0.01
TOL = 1e-5
MAX_ITER = 500
# Posteriors this close are a tie: decided by the order of the answers, not by rounding noise.
TIE = 1e-9


@dataclass(frozen=True)
class Answers:
    """All answers of a set of items as parallel arrays of codes, in the order given."""

    item: np.ndarray  # int: 0 .. items − 1
    member: np.ndarray  # int: 0 .. members − 1
    label: np.ndarray  # int: 0 .. labels − 1
    items: int
    members: int
    labels: int


@dataclass(frozen=True)
class Fit:
    """The result of EM: posteriors per item, priors, confusion matrices, how it ended."""

    posterior: np.ndarray  # (items, labels)
    priors: np.ndarray  # (labels,)
    confusion: np.ndarray  # (members, labels true, labels given)
    iterations: int
    converged: bool


def _per_item(answers: Answers, weights: np.ndarray) -> np.ndarray:
    """Return, per item and label, the sum of weights (answers × labels) over its answers."""
    return np.stack(
        [np.bincount(answers.item, weights[:, k], answers.items) for k in range(answers.labels)],
        axis=1,
    )


def majority_shares(answers: Answers) -> np.ndarray:
    """Return T[i, k]: the share of item i's answers that are label k (rows of 0 if none)."""
    counts = _per_item(answers, np.eye(answers.labels)[answers.label])
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def m_step(answers: Answers, posterior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (priors, confusion matrices) that best explain the answers given posteriors."""
    answered = posterior[np.bincount(answers.item, minlength=answers.items) > 0]
    priors = answered.mean(axis=0)
    k_count = answers.labels
    # Row (member, given label) of the answers, each weighted by the item's posterior of k.
    cell = answers.member * k_count + answers.label
    weights = posterior[answers.item]
    counts = np.stack(
        [np.bincount(cell, weights[:, k], answers.members * k_count) for k in range(k_count)],
        axis=1,
    ).reshape(answers.members, k_count, k_count)  # (member, given, true)
    confusion = counts.transpose(0, 2, 1) + SMOOTHING  # (member, true, given)
    confusion /= confusion.sum(axis=2, keepdims=True)
    return priors, confusion


def e_step(answers: Answers, priors: np.ndarray, confusion: np.ndarray) -> np.ndarray:
    """Return the posteriors T[i, k] of each item's true label given priors and confusions."""
    # log π_m[k, l] for every answer (m, l), as a row over k.
    log_pi = np.log(confusion.transpose(0, 2, 1))[answers.member, answers.label]
    with np.errstate(divide="ignore"):
        log_t = np.log(priors)[np.newaxis, :] + _per_item(answers, log_pi)
    log_t -= log_t.max(axis=1, keepdims=True)
    t = np.exp(log_t)
    return t / t.sum(axis=1, keepdims=True)


def fit(answers: Answers, tol: float = TOL, max_iter: int = MAX_ITER) -> Fit:
    """Run EM from the majority vote's shares until the posteriors settle."""
    posterior = majority_shares(answers)
    answered = np.bincount(answers.item, minlength=answers.items) > 0
    priors = confusion = None
    for iteration in range(1, max_iter + 1):
        priors, confusion = m_step(answers, posterior)
        new = e_step(answers, priors, confusion)
        new[~answered] = 0.0
        moved = float(np.abs(new - posterior).max()) if new.size else 0.0
        posterior = new
        if moved < tol:
            return Fit(posterior, priors, confusion, iteration, True)
    return Fit(posterior, priors, confusion, max_iter, False)


def decide(answers: Answers, posterior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (label, its posterior) per item; −1 for an item nobody answered.

    Among labels tied within TIE, the one answered first on that item wins (as in the
    majority vote), then the lowest code.
    """
    answered = np.bincount(answers.item, minlength=answers.items) > 0
    tied = posterior >= posterior.max(axis=1, keepdims=True) - TIE
    winner = np.argmax(tied, axis=1)
    is_tied = tied.sum(axis=1) > 1
    if is_tied.any():
        # The first answer (in the order given) to a tied item that gives a tied label.
        first = is_tied[answers.item] & tied[answers.item, answers.label]
        items, at = np.unique(answers.item[first], return_index=True)
        winner[items] = answers.label[first][at]
    winner = np.where(answered, winner, -1)
    confidence = np.where(answered, posterior[np.arange(answers.items), winner], 0.0)
    return winner, confidence
