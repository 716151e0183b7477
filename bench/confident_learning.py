#!/usr/bin/env python3
"""A NumPy peer of confident learning's prune_by_noise_rate, written from the paper (Northcutt,
Jiang, Chuang: "Confident Learning: Estimating Uncertainty in Dataset Labels", JAIR 70, 2021,
sections 3.1-3.2; cleanlab.filter.find_label_issues with filter_by="prune_by_noise_rate" is the
reference behaviour; cleanlab itself is not installable here). `memes review` implements the
same in C++ (pipelines/review_scoring.cpp); bench/review_bench.sh runs both on the same
out-of-fold probabilities, so the ranking and the probabilities are judged apart.

Usage: confident_learning.py REVIEW_DIR   (reads pred_probs.npy, labels.npy; prints the flagged
       row indices, one a line)
As a module: find_label_issues(pred_probs, labels) -> boolean mask.

variant="cleanlab" follows cleanlab 2.x's defaults where they differ in detail from the paper's
text (as read from cleanlab's count.py and filter.py, not run here): with two or more classes
above their thresholds the guess is the overall argmax; the calibrated joint is rounded to
integers preserving each row's total (round_preserving_row_totals); the prune counts keep at
least one item per class on the diagonal (_keep_at_least_n_per_class) instead of capping each
class at all but one of its items."""
import sys

import numpy as np


def confident_joint(pred_probs, labels, variant="paper"):
    """C[given][true]: per-class thresholds t_j = mean self-confidence of class j; each item
    counts in (given, argmax of p over the classes whose p >= t)."""
    n, k = pred_probs.shape
    thresholds = np.array([pred_probs[labels == j, j].mean() if np.any(labels == j) else 1.0
                           for j in range(k)])
    above = pred_probs >= thresholds - 1e-6
    masked = np.where(above, pred_probs, -np.inf)
    true_guess = masked.argmax(axis=1)
    if variant == "cleanlab":
        true_guess = np.where(above.sum(axis=1) > 1, pred_probs.argmax(axis=1),
                              above.argmax(axis=1))
    counted = above.any(axis=1)
    joint = np.zeros((k, k), dtype=np.int64)
    np.add.at(joint, (labels[counted], true_guess[counted]), 1)
    return joint, thresholds


def calibrated_joint(joint, labels, k):
    """Q: each row of C scaled to its label count, then the matrix to sum 1."""
    counts = np.bincount(labels, minlength=k).astype(float)
    rows = joint.sum(axis=1, keepdims=True).astype(float)
    calibrated = np.divide(joint, rows, out=np.zeros(joint.shape), where=rows > 0) * counts[:, None]
    return calibrated / calibrated.sum()


def round_preserving_sum(values):
    """Integers rounded from `values` whose sum is round(sum(values)): the largest remainders
    move first."""
    ints = values.round()
    target = round(values.sum())
    while round(ints.sum()) != target:
        step = 1 if target > ints.sum() else -1
        changes = min(int(abs(target - ints.sum())), len(values))
        for i in np.argsort(values - ints)[::-1][:changes] if step > 0 else \
                np.argsort(values - ints)[:changes]:
            ints[i] += step
    return ints


def prune_counts(q, labels, n, k, variant):
    """How many items labelled i to flag as really j: counts[i][j], i != j."""
    if variant != "cleanlab":
        return np.rint(n * q).astype(np.int64)
    calibrated = np.array([round_preserving_sum(row) for row in n * q])
    # At least one item of each class stays on the diagonal: what the diagonal gains is taken
    # evenly from the non-zero off-diagonal cells of its given class.
    diagonal = np.diagonal(calibrated).copy()
    raised = np.maximum(diagonal, 1)
    for i in range(k):
        others = [j for j in range(k) if j != i and calibrated[i, j] > 0]
        if raised[i] > diagonal[i] and others:
            calibrated[i, others] = np.maximum(
                calibrated[i, others] - (raised[i] - diagonal[i]) / len(others), 0)
        calibrated[i, i] = raised[i]
    return np.array([round_preserving_sum(row.astype(float)) for row in calibrated]).astype(
        np.int64)


FILTERS = ("prune_by_noise_rate", "prune_by_class", "both", "confident_learning")


def find_label_issues(pred_probs, labels, variant="paper", filter_by="prune_by_noise_rate"):
    """filter_by as cleanlab's find_label_issues: prune_by_noise_rate (its default and `memes
    review`'s) flags, per off-diagonal cell (i, j) of the calibrated joint, its n*Q[i][j] items of
    class i with the largest margin p_j - p_i; prune_by_class the n*sum_j Q[i][j] items of class
    i with the lowest self-confidence p_i; both the items both flag; confident_learning the items
    the confident joint counts off its diagonal (above the threshold of a class other than their
    label). Every filter then spares the items the model predicts as their given label."""
    pred_probs = np.asarray(pred_probs, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    n, k = pred_probs.shape
    if filter_by == "confident_learning":
        thresholds = np.array([pred_probs[labels == j, j].mean() if np.any(labels == j) else 1.0
                               for j in range(k)])
        above = pred_probs >= thresholds - 1e-6
        guess = np.where(above, pred_probs, -np.inf).argmax(axis=1)
        if variant == "cleanlab":
            guess = np.where(above.sum(axis=1) > 1, pred_probs.argmax(axis=1), above.argmax(axis=1))
        flagged = above.any(axis=1) & (guess != labels)
        return flagged & (pred_probs.argmax(axis=1) != labels)
    joint, _ = confident_joint(pred_probs, labels, variant)
    q = calibrated_joint(joint, labels, k)
    counts = prune_counts(q, labels, n, k, variant)
    by_noise_rate = np.zeros(n, dtype=bool)
    by_class = np.zeros(n, dtype=bool)
    for i in range(k):
        members = np.flatnonzero(labels == i)
        off_diagonal = 0
        for j in range(k):
            if i == j:
                continue
            # n * Q[i][j] items of class i, with the largest margin p_j - p_i; at least one item
            # of every class is kept (paper: capped here; cleanlab: in prune_counts).
            count = int(counts[i, j])
            if variant != "cleanlab":
                count = min(count, len(members) - 1)
            if count <= 0:
                continue
            off_diagonal += count
            margin = pred_probs[members, j] - pred_probs[members, i]
            order = np.lexsort((members, -margin))  # largest margin first, ties by index
            by_noise_rate[members[order[:count]]] = True
        count = min(off_diagonal, max(0, len(members) - 1))
        if count > 0:
            order = np.lexsort((members, pred_probs[members, i]))  # least confident first
            by_class[members[order[:count]]] = True
    flagged = {"prune_by_noise_rate": by_noise_rate, "prune_by_class": by_class,
               "both": by_noise_rate & by_class}[filter_by]
    # As find_label_issues: an item the model predicts as its given label is not an issue.
    return flagged & (pred_probs.argmax(axis=1) != labels)


def main():
    folder = sys.argv[1]
    pred_probs = np.load(folder + "/pred_probs.npy")
    labels = np.load(folder + "/labels.npy")
    for index in np.flatnonzero(find_label_issues(pred_probs, labels)):
        print(index)


if __name__ == "__main__":
    main()
