#!/usr/bin/env python3
"""Packs Debian's Fashion-MNIST (dataset-fashion-mnist, /usr/share/datasets/fashion-mnist) into
memes CIFAR-layout shards: 28x28 grey padded to 32x32 (2 black pixels each side), copied to
3 channels; data_batch_1..6.bin (10 000 each), test_batch.bin, batches.meta.txt, dataset.json.
Usage: fashion_mnist_to_shards.py OUT_DIR [SOURCE_DIR]"""
import gzip
import hashlib
import json
import os
import struct
import sys

CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
           "bag", "ankle-boot"]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack_from(">II", data, 0)
    if magic == 2049:
        return count, data[8:]
    rows, cols = struct.unpack_from(">II", data, 8)
    assert (rows, cols) == (28, 28), path
    return count, data[16:]


def records(images, labels, count):
    out = bytearray()
    for i in range(count):
        image = images[i * 784:(i + 1) * 784]
        plane = bytearray(1024)
        for y in range(28):
            plane[(y + 2) * 32 + 2:(y + 2) * 32 + 30] = image[y * 28:(y + 1) * 28]
        out.append(labels[i])
        out += plane * 3
    return bytes(out)


def main():
    out_dir = sys.argv[1]
    source = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist"
    os.makedirs(out_dir, exist_ok=True)
    files = {}
    counts = {"train": [0] * 10, "test": [0] * 10}
    total = [0.0, 0.0]
    for split, prefix in (("train", "train"), ("test", "t10k")):
        n, images = read_idx(os.path.join(source, prefix + "-images-idx3-ubyte.gz"))
        _, labels = read_idx(os.path.join(source, prefix + "-labels-idx1-ubyte.gz"))
        for label in labels[:n]:
            counts[split][label] += 1
        data = records(images, labels, n)
        if split == "train":
            values = [0] * 256
            for i in range(n):
                for v in images[i * 784:(i + 1) * 784]:
                    values[v] += 1
            padded = n * 1024
            s = sum(v * c for v, c in enumerate(values)) / 255.0
            s2 = sum((v / 255.0) ** 2 * c for v, c in enumerate(values))
            total = [s / padded, s2 / padded]
            chunks = [(("data_batch_%d.bin" % (k + 1)), data[k * 10000 * 3073:(k + 1) * 10000 * 3073])
                      for k in range((n + 9999) // 10000)]
        else:
            chunks = [("test_batch.bin", data)]
        for name, chunk in chunks:
            with open(os.path.join(out_dir, name), "wb") as f:
                f.write(chunk)
            files[name] = {"records": len(chunk) // 3073, "bytes": len(chunk),
                           "sha256": hashlib.sha256(chunk).hexdigest()}
    mean = total[0]
    std = (total[1] - mean * mean) ** 0.5
    with open(os.path.join(out_dir, "batches.meta.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n")
    manifest = {"format": "memes-cifar", "format_version": 1, "image_size": 32, "channels": 3,
                "record_bytes": 3073, "classes": CLASSES, "files": files,
                "counts": {split: dict(zip(CLASSES, c)) for split, c in counts.items()},
                "mean": [mean] * 3, "std": [std] * 3,
                "source": "Fashion-MNIST (Debian dataset-fashion-mnist), 28x28 padded to 32x32"}
    with open(os.path.join(out_dir, "dataset.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print("wrote %s: %d train, %d test" % (out_dir, sum(counts["train"]), sum(counts["test"])))


if __name__ == "__main__":
    main()
