#!/usr/bin/env python3
"""Python peer for bench/transform_bench.cpp: the same steps the way the original project did
them. PIL for decoding (GIF frames through ImageSequence), compositing onto white, OpenCV
resize (INTER_AREA, pad to a square) and rotate, NumPy for the 3073-byte CIFAR records.

    python3 bench/peer_transform.py --threads 2 --seconds 3 FILE_LIST

Prints `files_per_s=... frames_per_s=...`. --threads N runs N worker processes (the GIL rules
out threads), each over the whole list, like transform_bench's threads share one list.
Needs Debian's python3-pil, python3-opencv, python3-numpy.
"""
import argparse
import multiprocessing
import time

import cv2
import numpy as np
from PIL import Image, ImageSequence

SIZE = 32
MAX_FRAMES = 4


def frames_of(path):
    """All frames as RGBA arrays with their start times (ms)."""
    image = Image.open(path)
    frames, times, now = [], [], 0
    for frame in ImageSequence.Iterator(image):
        frames.append(np.asarray(frame.convert("RGBA")))
        times.append(now)
        now += frame.info.get("duration", 0) or 0
    return frames, times, now


def pick(times, duration):
    if len(times) <= MAX_FRAMES:
        return list(range(len(times)))
    picked = []
    for k in range(MAX_FRAMES):
        if duration > 0:
            target = duration * k / MAX_FRAMES
            index = max(i for i, t in enumerate(times) if t <= target)
        else:
            index = k * len(times) // MAX_FRAMES
        if not picked or picked[-1] != index:
            picked.append(index)
    return picked


def fit(rgba):
    alpha = rgba[:, :, 3:4].astype(np.float32) / 255.0
    rgb = (rgba[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    height, width = rgb.shape[:2]
    scale = min(SIZE / width, SIZE / height)
    new_w, new_h = max(1, min(SIZE, round(width * scale))), max(1, min(SIZE, round(height * scale)))
    small = cv2.resize(rgb, (new_w, new_h), interpolation=cv2.INTER_AREA)
    canvas = np.full((SIZE, SIZE, 3), 255, np.uint8)
    top, left = (SIZE - new_h) // 2, (SIZE - new_w) // 2
    canvas[top:top + new_h, left:left + new_w] = small
    return canvas


def transform(path):
    """Returns (records bytes, frames kept)."""
    frames, times, duration = frames_of(path)
    records, previous, kept = [], None, 0
    for index in pick(times, duration):
        fitted = fit(frames[index])
        if previous is not None and np.abs(fitted.astype(np.int16) - previous).mean() <= 2:
            continue
        previous = fitted.astype(np.int16)
        kept += 1
        for rotation in (None, cv2.ROTATE_90_COUNTERCLOCKWISE, cv2.ROTATE_180,
                         cv2.ROTATE_90_CLOCKWISE):
            turned = fitted if rotation is None else cv2.rotate(fitted, rotation)
            record = np.empty(1 + 3 * SIZE * SIZE, np.uint8)
            record[0] = 0
            record[1:] = turned.transpose(2, 0, 1).reshape(-1)  # (H, W, 3) -> (3, H, W)
            records.append(record)
    return np.concatenate(records).tobytes() if records else b"", kept


def worker(args):
    paths, seconds, start_at = args
    while time.time() < start_at:
        time.sleep(0.001)
    end = start_at + seconds
    files = frames = 0
    while True:
        for path in paths:
            _, kept = transform(path)
            files += 1
            frames += kept
        if time.time() >= end:
            break
    return files, frames, time.time() - start_at


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("file_list")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    with open(args.file_list) as listing:
        paths = [line.strip() for line in listing if line.strip()]
    start_at = time.time() + 0.5
    with multiprocessing.Pool(args.threads) as pool:
        results = pool.map(worker, [(paths, args.seconds, start_at)] * args.threads)
    elapsed = max(r[2] for r in results)
    print("files_per_s=%.2f frames_per_s=%.2f" % (sum(r[0] for r in results) / elapsed,
                                                   sum(r[1] for r in results) / elapsed))


if __name__ == "__main__":
    main()
