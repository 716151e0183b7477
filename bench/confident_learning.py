#!/usr/bin/env python3
"""A NumPy peer of confident learning's prune_by_noise_rate, written from the paper (Northcutt,
Jiang, Chuang: "Confident Learning: Estimating Uncertainty in Dataset Labels", JAIR 70, 2021,
sections 3.1-3.2; cleanlab.filter.find_label_issues with filter_by="prune_by_noise_rate" is the
reference behaviour; cleanlab itself is not installable here). `memes review` implements the
default variant, "cleanlab", in C++ (pipelines/review_scoring.cpp); bench/review_bench.sh runs
both on the same out-of-fold probabilities, so the ranking and the probabilities are judged apart.

Usage: confident_learning.py REVIEW_DIR   (reads pred_probs.npy, labels.npy; prints the flagged
       row indices, one a line)
As a module: find_label_issues(pred_probs, labels) -> boolean mask.

variant="cleanlab" follows cleanlab 2.x (count.py, filter.py, internal/util.py of
cleanlab/cleanlab, read in January 2026; re-written here, not copied) where its details differ
from the paper's text: a class with no items has threshold 2 (never reached) and thresholds are
at least 2e-6; with two or more classes above their thresholds the guess is the overall argmax;
the confident joint's diagonal is raised to at least 1 before calibration; the calibrated joint
is rounded to integers preserving each row's total (round_preserving_row_totals); the prune
counts keep at least one item of each given label on the diagonal by taking what the diagonal
gains evenly from the other non-zero cells of its column and truncating (_keep_at_least_n_per_
class); a class with a single item is not pruned (min_examples_per_class=1); an item is spared
when its given label is the argmax after adding 1e-6 to the given label's probability
(_reduce_issues). variant="paper" is the rule as the paper states it (what `memes review` did
before 2026-12-01): argmax among the classes above threshold, no diagonal floor, each cell
rounded alone, each class capped at all but one of its items, an exact argmax to spare."""
import sys

import numpy as np


def thresholds_of(pred_probs, labels, variant="cleanlab"):
    """t_j: the mean self-confidence of the items labelled j."""
    k = pred_probs.shape[1]
    absent = 2.0 if variant == "cleanlab" else 1.0
    thresholds = np.array([pred_probs[labels == j, j].mean() if np.any(labels == j) else absent
                           for j in range(k)])
    return np.maximum(thresholds, 2e-6) if variant == "cleanlab" else thresholds


def confident_joint(pred_probs, labels, variant="cleanlab"):
    """C[given][true]: per-class thresholds t_j = mean self-confidence of class j; each item
    counts in (given, argmax of p over the classes whose p >= t)."""
    n, k = pred_probs.shape
    thresholds = thresholds_of(pred_probs, labels, variant)
    above = pred_probs >= thresholds - 1e-6
    masked = np.where(above, pred_probs, -np.inf)
    true_guess = masked.argmax(axis=1)
    if variant == "cleanlab":
        true_guess = np.where(above.sum(axis=1) > 1, pred_probs.argmax(axis=1),
                              above.argmax(axis=1))
    counted = above.any(axis=1)
    joint = np.zeros((k, k), dtype=np.int64)
    np.add.at(joint, (labels[counted], true_guess[counted]), 1)
    if variant == "cleanlab":
        np.fill_diagonal(joint, np.maximum(np.diagonal(joint), 1))
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
    # At least one item of each given label stays on the diagonal: what the diagonal gains is
    # taken evenly from the column's (here: the row's) non-zero cells, counted with the diagonal
    # minus one, at least one; negative cells become 0, and the counts are truncated.
    diagonal = np.diagonal(calibrated).copy()
    raised = np.maximum(diagonal, 1)
    shared = np.maximum(np.count_nonzero(calibrated, axis=1) - 1.0, 1.0)
    adjusted = calibrated - ((raised - diagonal) / shared)[:, None]
    adjusted[adjusted < 0] = 0
    np.fill_diagonal(adjusted, raised)
    return adjusted.astype(np.int64)


def spared(pred_probs, labels):
    """Items the model predicts as their given label (cleanlab: within 1e-6 of the argmax)."""
    rows = np.arange(len(labels))
    nudged = pred_probs.copy()
    nudged[rows, labels] += 1e-6
    return nudged.argmax(axis=1) == labels


FILTERS = ("prune_by_noise_rate", "prune_by_class", "both", "confident_learning")


def find_label_issues(pred_probs, labels, variant="cleanlab", filter_by="prune_by_noise_rate"):
    """filter_by as cleanlab's find_label_issues: prune_by_noise_rate (its default and `memes
    review`'s) flags, per off-diagonal cell (i, j) of the calibrated joint, its n*Q[i][j] items of
    class i with the largest margin p_j - p_i; prune_by_class the n*sum_j Q[i][j] items of class
    i with the lowest self-confidence p_i; both the items both flag; confident_learning the items
    the confident joint counts off its diagonal (above the threshold of a class other than their
    label). Every filter then spares the items the model predicts as their given label."""
    pred_probs = np.asarray(pred_probs, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    n, k = pred_probs.shape
    kept = spared(pred_probs, labels) if variant == "cleanlab" else \
        pred_probs.argmax(axis=1) == labels
    if filter_by == "confident_learning":
        thresholds = thresholds_of(pred_probs, labels, variant)
        above = pred_probs >= thresholds - 1e-6
        guess = np.where(above, pred_probs, -np.inf).argmax(axis=1)
        if variant == "cleanlab":
            guess = np.where(above.sum(axis=1) > 1, pred_probs.argmax(axis=1), above.argmax(axis=1))
        flagged = above.any(axis=1) & (guess != labels)
        return flagged & ~kept
    joint, _ = confident_joint(pred_probs, labels, variant)
    q = calibrated_joint(joint, labels, k)
    counts = prune_counts(q, labels, n, k, variant)
    by_noise_rate = np.zeros(n, dtype=bool)
    by_class = np.zeros(n, dtype=bool)
    for i in range(k):
        members = np.flatnonzero(labels == i)
        if variant == "cleanlab" and len(members) <= 1:
            continue  # min_examples_per_class
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
        if variant == "cleanlab":
            count = len(members) - int(counts[i, i])  # all but the diagonal's count
        if count > 0:
            order = np.lexsort((members, pred_probs[members, i]))  # least confident first
            by_class[members[order[:count]]] = True
    flagged = {"prune_by_noise_rate": by_noise_rate, "prune_by_class": by_class,
               "both": by_noise_rate & by_class}[filter_by]
    # As find_label_issues: an item the model predicts as its given label is not an issue.
    return flagged & ~kept


def main():
    folder = sys.argv[1]
    pred_probs = np.load(folder + "/pred_probs.npy")
    labels = np.load(folder + "/labels.npy")
    for index in np.flatnonzero(find_label_issues(pred_probs, labels)):
        print(index)


if __name__ == "__main__":
    main()
