#!/usr/bin/env python3
"""A NumPy peer of confident learning's prune_by_noise_rate, written from the paper (Northcutt,
Jiang, Chuang: "Confident Learning: Estimating Uncertainty in Dataset Labels", JAIR 70, 2021,
sections 3.1-3.2; cleanlab.filter.find_label_issues with filter_by="prune_by_noise_rate" is the
reference behaviour; cleanlab itself is not installable here). `memes review` implements the
same in C++ (pipelines/review_scoring.cpp); bench/review_bench.sh runs both on the same
out-of-fold probabilities, so the ranking and the probabilities are judged apart.

Usage: confident_learning.py REVIEW_DIR   (reads pred_probs.npy, labels.npy; prints the flagged
       row indices, one a line)
As a module: find_label_issues(pred_probs, labels) -> boolean mask."""
import sys

import numpy as np


def confident_joint(pred_probs, labels):
    """C[given][true]: per-class thresholds t_j = mean self-confidence of class j; each item
    counts in (given, argmax of p over the classes whose p >= t)."""
    n, k = pred_probs.shape
    thresholds = np.array([pred_probs[labels == j, j].mean() if np.any(labels == j) else 1.0
                           for j in range(k)])
    above = pred_probs >= thresholds - 1e-6
    masked = np.where(above, pred_probs, -np.inf)
    true_guess = masked.argmax(axis=1)
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


def find_label_issues(pred_probs, labels):
    pred_probs = np.asarray(pred_probs, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    n, k = pred_probs.shape
    joint, _ = confident_joint(pred_probs, labels)
    q = calibrated_joint(joint, labels, k)
    flagged = np.zeros(n, dtype=bool)
    for i in range(k):
        members = np.flatnonzero(labels == i)
        for j in range(k):
            if i == j:
                continue
            # n * Q[i][j] items of class i, with the largest margin p_j - p_i; at least one item
            # of every class is kept.
            count = min(int(round(n * q[i, j])), len(members) - 1)
            if count <= 0:
                continue
            margin = pred_probs[members, j] - pred_probs[members, i]
            order = np.lexsort((members, -margin))  # largest margin first, ties by index
            flagged[members[order[:count]]] = True
    # As find_label_issues: an item the model predicts as its given label is not an issue.
    flagged &= pred_probs.argmax(axis=1) != labels
    return flagged


def main():
    folder = sys.argv[1]
    pred_probs = np.load(folder + "/pred_probs.npy")
    labels = np.load(folder + "/labels.npy")
    for index in np.flatnonzero(find_label_issues(pred_probs, labels)):
        print(index)


if __name__ == "__main__":
    main()
