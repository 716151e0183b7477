#!/usr/bin/env python3
"""The PyTorch (Python, eager) peer of `memes train`: same architecture (train/python/se_resnext.py),
same shards, same recipe (SGD Nesterov 0.9, weight decay 5e-4 on conv/linear weights only, label
smoothing 0.1, cosine schedule with 1 warm-up epoch stepped per batch, random crop with 4-pixel
zero padding after normalisation, horizontal flip), same threads, same batch size.
Prints one JSON line per epoch: epoch, train_seconds, images_per_s, train_loss, train_acc,
test_loss, test_acc."""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train", "python"))
import se_resnext  # noqa: E402


def load_split(folder, names, limit, size):
    data = b"".join(open(os.path.join(folder, n), "rb").read() for n in names)
    record = 1 + 3 * size * size
    records = torch.frombuffer(bytearray(data), dtype=torch.uint8).reshape(-1, record)
    if limit:
        records = records[:limit]
    return records[:, 1:].reshape(-1, 3, size, size).clone(), records[:, 0].long().clone()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("shards")
    p.add_argument("--preset", default="small")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--limit-train", type=int, default=0)
    p.add_argument("--limit-test", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--device", default="cpu", help="cpu | cuda (channels-last, autocast, GradScaler)")
    a = p.parse_args()
    device = torch.device(a.device)
    cuda = device.type == "cuda"
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    manifest = json.load(open(os.path.join(a.shards, "dataset.json")))
    size = manifest["image_size"]
    train_names = sorted((n for n in os.listdir(a.shards) if n.startswith("data_batch_")),
                         key=lambda n: int(n[11:-4]))
    train_x, train_y = load_split(a.shards, train_names, a.limit_train, size)
    test_x, test_y = load_split(a.shards, ["test_batch.bin"], a.limit_test, size)
    mean = torch.tensor(manifest["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(manifest["std"]).view(1, 3, 1, 1)

    model = se_resnext.SeResNeXt(se_resnext.preset(a.preset, len(manifest["classes"]), size))
    model = model.to(device, memory_format=torch.channels_last if cuda else torch.contiguous_format)
    scaler = torch.cuda.amp.GradScaler(enabled=cuda)
    decay = [p for p in model.parameters() if p.dim() > 1]
    no_decay = [p for p in model.parameters() if p.dim() <= 1]
    optimizer = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4},
                                 {"params": no_decay, "weight_decay": 0}],
                                lr=a.lr, momentum=0.9, nesterov=True)
    n = train_x.shape[0]
    steps = n // a.batch_size + (1 if n % a.batch_size > 1 else 0)
    warmup = 1.0

    def rate(progress):
        if progress < warmup:
            return a.lr * min(1.0, (progress + 1e-3) / warmup)
        done = min(1.0, max(0.0, (progress - warmup) / max(1e-9, a.epochs - warmup)))
        return a.lr * 0.5 * (1 + math.cos(math.pi * done))

    generator = torch.Generator().manual_seed(a.seed)
    for epoch in range(a.epochs):
        model.train()
        started = time.time()
        cpu_started = time.process_time()
        order = torch.randperm(n, generator=generator)
        loss_sum, correct, seen = 0.0, 0, 0
        for b in range(steps):
            index = order[b * a.batch_size:(b + 1) * a.batch_size]
            images = (train_x[index].float() / 255 - mean) / std
            padded = F.pad(images, (4, 4, 4, 4))
            shifts = torch.randint(0, 9, (len(index), 2), generator=generator)
            images = torch.stack([padded[i, :, y:y + size, x:x + size]
                                  for i, (y, x) in enumerate(shifts.tolist())])
            flip = torch.rand(len(index), generator=generator) < 0.5
            images[flip] = images[flip].flip(3)
            labels = train_y[index].to(device, non_blocking=cuda)
            images = images.to(device, non_blocking=cuda)
            if cuda:
                images = images.contiguous(memory_format=torch.channels_last)
            for group in optimizer.param_groups:
                group["lr"] = rate(epoch + b / steps)
            with torch.autocast("cuda", enabled=cuda):
                logits = model(images)
            loss = F.cross_entropy(logits.float(), labels, label_smoothing=0.1)
            optimizer.zero_grad()
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            loss_sum += loss.item() * len(index)
            correct += (logits.argmax(1) == labels).sum().item()
            seen += len(index)
        train_seconds = time.time() - started
        train_cpu_seconds = time.process_time() - cpu_started
        model.eval()
        test_loss, test_correct = 0.0, 0
        with torch.no_grad():
            for b in range(0, test_x.shape[0], 256):
                images = ((test_x[b:b + 256].float() / 255 - mean) / std).to(device)
                labels = test_y[b:b + 256].to(device)
                logits = model(images).float()
                test_loss += F.cross_entropy(logits, labels, reduction="sum").item()
                test_correct += (logits.argmax(1) == labels).sum().item()
        print(json.dumps({"epoch": epoch + 1, "train_seconds": train_seconds,
                          "images_per_s": seen / train_seconds, "train_cpu_seconds": train_cpu_seconds,
                          "train_loss": loss_sum / seen,
                          "train_acc": correct / seen, "test_loss": test_loss / test_x.shape[0],
                          "test_acc": test_correct / test_x.shape[0]}), flush=True)


if __name__ == "__main__":
    main()
