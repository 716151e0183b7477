#!/usr/bin/python3
"""bench/review_bench.sh's data and scoring (Debian's python3-numpy).

  review_bench.py make OUT N NOISE KIND SEED   writes OUT/records.bin (CIFAR layout, the noisy
      labels), OUT/classes.txt and OUT/truth.npy (true and given label per record) from the first
      N Fashion-MNIST training images; KIND uniform (a flipped label goes to any other class) or
      pairs (class-conditional: each class flips to one confusable class, e.g. shirt -> t-shirt)
  review_bench.py emoji OUT PER_CLASS NOISE KIND SEED   the same files (and OUT/groups.txt) from
      real emoji art (the emoji-datasource npm packages, EMOJI_DIR: emoji-datasource{,-google,
      -twitter}-16.0.0 unpacked): classes are emoji.json's categories but "Component", PER_CLASS
      emoji drawn from each (seeded), every emoji as Apple, Google and Twitter draw it (the 32 px
      sprite sheets, on white), its three pictures one near-duplicate group; KIND uniform only
  review_bench.py score OUT REVIEW_DIR         precision and recall of `memes review`'s flagged set
      and of the NumPy peer (confident_learning.py, cleanlab's details; and its variant with the
      paper's) on the same pred_probs.npy, against the injected errors; one JSON line.
  review_bench.py mean OUT REVIEW_DIR...        the NumPy peer on the mean of several reviews'
      out-of-fold probabilities (other --seed: other folds and initialisations), against the
      injected errors; one JSON line (the reviews must have scored the same items).
  review_bench.py testset SHARDS N             replaces SHARDS/test_batch.bin (a pack with
      --test-fraction 0) by the first N Fashion-MNIST test images with their true labels, in the
      pack's class order, and updates dataset.json (records, bytes, sha256, test counts), so
      trainings on noisy, cleaned and clean labels are scored on the same true-label test set.
  review_bench.py decide OUT SUSPECTS.csv DECIDED.csv ACTION   fills the action column: relabel
      (accept every suggestion), drop (every suspect), or person (what a person who looks would
      decide: an injected error is relabelled to its true class, a right label kept)
  review_bench.py labels OUT EXPORT.csv         how many of the store's labels (`memes label
      export`) are the true ones, after a label import; one JSON line."""
import csv
import gzip
import hashlib
import json
import os
import struct
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import confident_learning  # noqa: E402

SOURCE = "/usr/share/datasets/fashion-mnist"
CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
           "bag", "ankle-boot"]
# Class-conditional noise: the confusions people make (and models too).
PAIRS = {0: 6, 6: 0, 2: 4, 4: 2, 5: 7, 7: 9, 9: 5, 3: 4, 1: 3, 8: 0}


def pad_records(images, labels):
    n = len(labels)
    padded = np.zeros((n, 32, 32), np.uint8)
    padded[:, 2:30, 2:30] = images
    return np.concatenate([labels.astype(np.uint8)[:, None],
                           np.repeat(padded.reshape(n, 1, 1024), 3, axis=1).reshape(n, 3072)],
                          axis=1)


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
    records = pad_records(images, given)
    os.makedirs(out, exist_ok=True)
    records.tofile(f"{out}/records.bin")
    with open(f"{out}/classes.txt", "w") as f:
        f.write("\n".join(CLASSES) + "\n")
    np.save(f"{out}/truth.npy", np.stack([truth, given]))


def read_ppm(path):
    """A binary PPM (P6, 8 bit) as an (H, W, 3) array: what `convert FILE.png ppm:-` writes."""
    data = open(path, "rb").read()
    fields, at = [], 0
    while len(fields) < 4:
        while data[at:at + 1].isspace():
            at += 1
        end = at
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[at:end])
        at = end
    assert fields[0] == b"P6" and fields[3] == b"255", path
    width, height = int(fields[1]), int(fields[2])
    return np.frombuffer(data, np.uint8, offset=at + 1).reshape(height, width, 3)


def make_emoji(out, per_class, noise, kind, seed):
    assert kind == "uniform", "the emoji bench injects uniform noise"
    import subprocess
    root = os.environ.get("EMOJI_DIR", "/tmp/emoji")
    packages = {"apple": "emoji-datasource-16.0.0", "google": "emoji-datasource-google-16.0.0",
                "twitter": "emoji-datasource-twitter-16.0.0"}
    os.makedirs(out, exist_ok=True)
    sheets = {}
    for vendor, package in packages.items():
        sheet = f"{root}/{package}/package/img/{vendor}/sheets/32.png"
        ppm = f"{out}/{vendor}.ppm"
        with open(ppm, "wb") as f:
            subprocess.run(["convert", sheet, "ppm:-"], stdout=f, check=True)
        sheets[vendor] = read_ppm(ppm)
        os.remove(ppm)
    entries = json.load(open(f"{root}/{packages['apple']}/package/emoji.json"))
    entries = [e for e in entries if e["category"] != "Component" and
               all(e[f"has_img_{vendor}"] for vendor in packages)]
    classes = sorted({e["category"] for e in entries})
    random = np.random.default_rng(seed)
    chosen = []
    for name in classes:
        members = [e for e in entries if e["category"] == name]
        picks = random.permutation(len(members))[:per_class]
        chosen += [members[i] for i in sorted(picks)]
    images, truth, groups = [], [], []
    for group, entry in enumerate(chosen):
        # 32 px cells with a 1 px border each side (emoji-datasource's sheet layout).
        y, x = entry["sheet_y"] * 34 + 1, entry["sheet_x"] * 34 + 1
        for vendor in packages:
            images.append(sheets[vendor][y:y + 32, x:x + 32].transpose(2, 0, 1).reshape(3072))
            truth.append(classes.index(entry["category"]))
            groups.append(group)
    truth = np.array(truth, np.int64)
    n = len(truth)
    given = truth.copy()
    flip = random.random(n) < noise
    shift = random.integers(1, len(classes), n)
    given[flip] = (truth[flip] + shift[flip]) % len(classes)
    records = np.concatenate([given.astype(np.uint8)[:, None], np.stack(images)], axis=1)
    records.tofile(f"{out}/records.bin")
    with open(f"{out}/classes.txt", "w") as f:
        f.write("\n".join(classes) + "\n")
    with open(f"{out}/groups.txt", "w") as f:
        f.write("\n".join(map(str, groups)) + "\n")
    np.save(f"{out}/truth.npy", np.stack([truth, given]))


def precision_recall(flagged, errors):
    hits = int(np.sum(flagged & errors))
    return (hits / max(1, int(flagged.sum())), hits / max(1, int(errors.sum())))


def precision_at_recall(quality, errors, recall):
    """Precision of the shortest worst-first prefix of the ranking by `quality` (lower = more
    likely wrong) whose recall of `errors` reaches `recall`."""
    order = np.argsort(quality, kind="stable")
    found = np.cumsum(errors[order])
    needed = int(np.ceil(recall * errors.sum()))
    length = int(np.searchsorted(found, needed) + 1)
    return needed / length


def cpp_rule(review, peer):
    """With REVIEW_SELECT (bench/review_bench_select): whether the C++ selection built now flags
    the peer's set on these probabilities (a review made by an older binary is re-selected)."""
    select = os.environ.get("REVIEW_SELECT")
    if not select or not os.path.exists(select):
        return {}
    import subprocess
    rows = subprocess.run([select, review], capture_output=True, text=True, check=True).stdout
    mask = np.zeros(len(peer), bool)
    mask[[int(row) for row in rows.split()]] = True
    return {"select_now_same_as_peer": bool(np.array_equal(mask, peer))}


def score(out, review):
    truth, given = np.load(f"{out}/truth.npy")
    n = len(truth)
    row_of_blob = {hashlib.sha256(f"review-bench record {i}".encode()).hexdigest(): i
                   for i in range(n)}
    hashes = open(f"{review}/hashes.txt").read().split()
    rows = np.array([row_of_blob[h] for h in hashes])
    names = open(f"{review}/classes.txt").read().split("\n")[:-1]
    bench_classes = open(f"{out}/classes.txt").read().split("\n")[:-1]  # truth.npy's numbering
    to_fashion = np.array([bench_classes.index(name) for name in names])
    pred_probs = np.load(f"{review}/pred_probs.npy")
    labels = np.load(f"{review}/labels.npy")
    assert np.all(to_fashion[labels] == given[rows]), "labels.npy is not the injected labels"
    errors = truth[rows] != given[rows]
    ours = np.zeros(len(rows), bool)
    position = {h: i for i, h in enumerate(hashes)}
    for line in open(f"{review}/suspects.csv").read().splitlines()[1:]:
        ours[position[line.split(",")[0]]] = True
    peer = confident_learning.find_label_issues(pred_probs, labels)  # cleanlab's details
    peer_paper = confident_learning.find_label_issues(pred_probs, labels, "paper")
    p_ours, r_ours = precision_recall(ours, errors)
    p_peer, r_peer = precision_recall(peer, errors)
    p_paper, r_paper = precision_recall(peer_paper, errors)
    oof_accuracy = float(np.mean(to_fashion[pred_probs.argmax(1)] == truth[rows]))
    # The rankings alone (cleanlab.rank's self_confidence and normalized_margin), whatever the
    # selection: precision of the worst-first prefix that holds 85 % of the injected errors.
    k = np.arange(len(labels))
    self_confidence = pred_probs[k, labels]
    others = pred_probs.copy()
    others[k, labels] = -1
    normalized_margin = (self_confidence - others.max(1) + 1) / 2
    ranked = {name: round(precision_at_recall(quality, errors, 0.85), 4)
              for name, quality in (("self_confidence", self_confidence),
                                    ("normalized_margin", normalized_margin))}
    print(json.dumps({"items": int(len(rows)), "injected": int(errors.sum()),
                      "oof_accuracy_vs_true": round(oof_accuracy, 4),
                      "ours": {"flagged": int(ours.sum()), "precision": round(p_ours, 4),
                               "recall": round(r_ours, 4)},
                      "peer": {"flagged": int(peer.sum()), "precision": round(p_peer, 4),
                               "recall": round(r_peer, 4)},
                      "peer_paper_variant": {"flagged": int(peer_paper.sum()),
                                             "precision": round(p_paper, 4),
                                             "recall": round(r_paper, 4)},
                      "same_set": bool(np.array_equal(ours, peer)),
                      "same_set_as_paper_variant": bool(np.array_equal(ours, peer_paper)),
                      **cpp_rule(review, peer),
                      # cleanlab's other filter_by choices, the paper's details (item 2 of #14).
                      "peer_filters": {
                          name: dict(zip(("flagged", "precision", "recall"),
                                         (int(mask.sum()),) + tuple(
                                             round(v, 4) for v in precision_recall(mask, errors))))
                          for name in confident_learning.FILTERS
                          for mask in [confident_learning.find_label_issues(
                              pred_probs, labels, filter_by=name)]},
                      "ranked_precision_at_recall_0.85": ranked}))


def mean(out, reviews):
    truth, given = np.load(f"{out}/truth.npy")
    n = len(truth)
    row_of_blob = {hashlib.sha256(f"review-bench record {i}".encode()).hexdigest(): i
                   for i in range(n)}
    hashes = open(f"{reviews[0]}/hashes.txt").read().split()
    names = open(f"{reviews[0]}/classes.txt").read().split("\n")[:-1]
    for review in reviews[1:]:
        assert open(f"{review}/hashes.txt").read().split() == hashes, review
        assert open(f"{review}/classes.txt").read().split("\n")[:-1] == names, review
    rows = np.array([row_of_blob[h] for h in hashes])
    bench_classes = open(f"{out}/classes.txt").read().split("\n")[:-1]
    to_fashion = np.array([bench_classes.index(name) for name in names])
    pred_probs = np.mean([np.load(f"{review}/pred_probs.npy") for review in reviews], axis=0)
    labels = np.load(f"{reviews[0]}/labels.npy")
    errors = truth[rows] != given[rows]
    peer = confident_learning.find_label_issues(pred_probs, labels)
    p_peer, r_peer = precision_recall(peer, errors)
    print(json.dumps({"reviews": len(reviews), "items": int(len(rows)),
                      "injected": int(errors.sum()),
                      "oof_accuracy_vs_true": round(
                          float(np.mean(to_fashion[pred_probs.argmax(1)] == truth[rows])), 4),
                      "peer": {"flagged": int(peer.sum()), "precision": round(p_peer, 4),
                               "recall": round(r_peer, 4)}}))


def testset(shards, n):
    images, _ = read_idx(f"{SOURCE}/t10k-images-idx3-ubyte.gz")
    labels, _ = read_idx(f"{SOURCE}/t10k-labels-idx1-ubyte.gz")
    meta_path = f"{shards}/dataset.json"
    with open(meta_path) as f:
        meta = json.load(f)
    to_pack = np.array([meta["classes"].index(name) for name in CLASSES])
    truth = labels[:n].astype(np.int64)
    records = pad_records(images.reshape(-1, 28, 28)[:n], to_pack[truth])
    data = records.tobytes()
    with open(f"{shards}/test_batch.bin", "wb") as f:
        f.write(data)
    meta["files"]["test_batch.bin"] = {"records": n, "bytes": len(data),
                                       "sha256": hashlib.sha256(data).hexdigest()}
    # index.tsv: the train rows as packed, then one row per test record (a made-up blob name).
    with open(f"{shards}/index.tsv") as f:
        rows = [line for line in f if not line.startswith("test_batch.bin\t")]
    for i, record in enumerate(records):
        blob = hashlib.sha256(f"fashion-mnist test {i}".encode()).hexdigest()
        rows.append(f"test_batch.bin\t{i}\t{blob}\t0\t0\t{record[0]}\t"
                    f"{meta['classes'][record[0]]}\t{zlib.crc32(record.tobytes()):08x}\n")
    index = "".join(rows).encode()
    with open(f"{shards}/index.tsv", "wb") as f:
        f.write(index)
    meta["files"]["index.tsv"] = {"bytes": len(index), "sha256": hashlib.sha256(index).hexdigest()}
    meta["counts"]["test"] = {name: int(np.sum(truth == CLASSES.index(name)))
                              for name in meta["classes"]}
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=2)


def decide(out, suspects, decided, action):
    truth, given = np.load(f"{out}/truth.npy")
    row_of_blob = {hashlib.sha256(f"review-bench record {i}".encode()).hexdigest(): i
                   for i in range(len(truth))}
    rows = list(csv.reader(open(suspects, newline="")))
    for row in rows[1:]:
        i = row_of_blob[row[0]]
        if action != "person":
            row[5] = action
        elif truth[i] == given[i]:
            row[5] = "keep"
        else:
            row[1], row[5] = CLASSES[truth[i]], "relabel"
    csv.writer(open(decided, "w", newline=""), lineterminator="\n").writerows(rows)


def labels_now(out, export):
    truth, given = np.load(f"{out}/truth.npy")
    n = len(truth)
    row_of_blob = {hashlib.sha256(f"review-bench record {i}".encode()).hexdigest(): i
                   for i in range(n)}
    rows = list(csv.DictReader(open(export, newline="")))
    kept = [r for r in rows if r["dropped"] in ("", "0", "false")]
    right = sum(CLASSES[truth[row_of_blob[r["hash"]]]] == r["label"] for r in kept)
    print(json.dumps({"items": n, "kept": len(kept), "dropped": n - len(kept),
                      "labels_right_before": int(np.sum(truth == given)),
                      "labels_right_now": int(right),
                      "wrong_now": len(kept) - int(right)}))


if __name__ == "__main__":
    if sys.argv[1] == "emoji":
        make_emoji(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], int(sys.argv[6]))
    elif sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], int(sys.argv[6]))
    elif sys.argv[1] == "mean":
        mean(sys.argv[2], sys.argv[3:])
    elif sys.argv[1] == "testset":
        testset(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "decide":
        decide(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif sys.argv[1] == "labels":
        labels_now(sys.argv[2], sys.argv[3])
    else:
        score(sys.argv[2], sys.argv[3])
