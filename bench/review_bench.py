#!/usr/bin/python3
"""bench/review_bench.sh's data and scoring (Debian's python3-numpy).

  review_bench.py make OUT N NOISE KIND SEED   writes OUT/records.bin (CIFAR layout, the noisy
      labels), OUT/classes.txt and OUT/truth.npy (true and given label per record) from the first
      N Fashion-MNIST training images; KIND uniform (a flipped label goes to any other class) or
      pairs (class-conditional: each class flips to one confusable class, e.g. shirt -> t-shirt)
  review_bench.py score OUT REVIEW_DIR         precision and recall of `memes review`'s flagged set
      and of the NumPy peer (confident_learning.py) on the same pred_probs.npy, against the
      injected errors; one JSON line."""
import gzip
import hashlib
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import confident_learning  # noqa: E402

SOURCE = "/usr/share/datasets/fashion-mnist"
CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
           "bag", "ankle-boot"]
# Class-conditional noise: the confusions people make (and models too).
PAIRS = {0: 6, 6: 0, 2: 4, 4: 2, 5: 7, 7: 9, 9: 5, 3: 4, 1: 3, 8: 0}


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack_from(">II", data, 0)
    return np.frombuffer(data, np.uint8, offset=8 if magic == 2049 else 16), count


def make(out, n, noise, kind, seed):
    images, _ = read_idx(f"{SOURCE}/train-images-idx3-ubyte.gz")
    labels, _ = read_idx(f"{SOURCE}/train-labels-idx1-ubyte.gz")
    images = images.reshape(-1, 28, 28)[:n]
    truth = labels[:n].astype(np.int64)
    random = np.random.default_rng(seed)
    given = truth.copy()
    flip = random.random(n) < noise
    if kind == "uniform":
        shift = random.integers(1, len(CLASSES), n)
        given[flip] = (truth[flip] + shift[flip]) % len(CLASSES)
    else:
        given[flip] = [PAIRS[t] for t in truth[flip]]
    padded = np.zeros((n, 32, 32), np.uint8)
    padded[:, 2:30, 2:30] = images
    records = np.concatenate([given.astype(np.uint8)[:, None],
                              np.repeat(padded.reshape(n, 1, 1024), 3, axis=1).reshape(n, 3072)],
                             axis=1)
    os.makedirs(out, exist_ok=True)
    records.tofile(f"{out}/records.bin")
    with open(f"{out}/classes.txt", "w") as f:
        f.write("\n".join(CLASSES) + "\n")
    np.save(f"{out}/truth.npy", np.stack([truth, given]))


def precision_recall(flagged, errors):
    hits = int(np.sum(flagged & errors))
    return (hits / max(1, int(flagged.sum())), hits / max(1, int(errors.sum())))


def score(out, review):
    truth, given = np.load(f"{out}/truth.npy")
    n = len(truth)
    row_of_blob = {hashlib.sha256(f"review-bench record {i}".encode()).hexdigest(): i
                   for i in range(n)}
    hashes = open(f"{review}/hashes.txt").read().split()
    rows = np.array([row_of_blob[h] for h in hashes])
    names = open(f"{review}/classes.txt").read().split("\n")[:-1]
    to_fashion = np.array([CLASSES.index(name) for name in names])
    pred_probs = np.load(f"{review}/pred_probs.npy")
    labels = np.load(f"{review}/labels.npy")
    assert np.all(to_fashion[labels] == given[rows]), "labels.npy is not the injected labels"
    errors = truth[rows] != given[rows]
    ours = np.zeros(len(rows), bool)
    position = {h: i for i, h in enumerate(hashes)}
    for line in open(f"{review}/suspects.csv").read().splitlines()[1:]:
        ours[position[line.split(",")[0]]] = True
    peer = confident_learning.find_label_issues(pred_probs, labels)
    p_ours, r_ours = precision_recall(ours, errors)
    p_peer, r_peer = precision_recall(peer, errors)
    oof_accuracy = float(np.mean(to_fashion[pred_probs.argmax(1)] == truth[rows]))
    print(json.dumps({"items": int(len(rows)), "injected": int(errors.sum()),
                      "oof_accuracy_vs_true": round(oof_accuracy, 4),
                      "ours": {"flagged": int(ours.sum()), "precision": round(p_ours, 4),
                               "recall": round(r_ours, 4)},
                      "peer": {"flagged": int(peer.sum()), "precision": round(p_peer, 4),
                               "recall": round(r_peer, 4)},
                      "same_set": bool(np.array_equal(ours, peer))}))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], int(sys.argv[6]))
    else:
        score(sys.argv[2], sys.argv[3])
