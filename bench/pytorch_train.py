#!/usr/bin/env python3
"""The PyTorch (Python, eager) peer of `memes train`: same architecture (train/python/se_resnext.py),
same shards, same recipe (SGD Nesterov 0.9, weight decay 5e-4 on conv/linear weights only, label
smoothing 0.1, cosine schedule with 1 warm-up epoch stepped per batch, random crop with 4-pixel
zero padding after normalisation, horizontal flip), same threads, same batch size.
With --preset fast: the airbench-style network and fast recipe of `memes train --preset fast`
(train/README.md): frozen 2x2 whitening layer from the first 5000 training images, dirac init,
BatchNorm weights frozen (momentum 0.4, eps 1e-12), BN biases at 64x the rate, Nesterov 0.85, summed
loss with label smoothing 0.2, triangular schedule, lookahead every 5 steps, alternating flip and
2-pixel translation (zero fill), 6-view test-time augmentation. Widths 32, 64, 64 as memes's
`fast` preset unless --widths says otherwise (airbench's own are 64,256,256).
With --recipe fast and an SE-ResNeXt preset: `memes train --preset P --recipe fast` (the same recipe
with the whitening layer before the SE-ResNeXt stem, He init, BN biases at the common rate).
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


class ConvGroup(torch.nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = dirac_conv(cin, cout)
        self.norm1 = fast_norm(cout)
        self.conv2 = dirac_conv(cout, cout)
        self.norm2 = fast_norm(cout)

    def forward(self, x):
        x = F.gelu(self.norm1(F.max_pool2d(self.conv1(x), 2)))
        return F.gelu(self.norm2(self.conv2(x)))


def dirac_conv(cin, cout):
    conv = torch.nn.Conv2d(cin, cout, 3, padding=1, bias=False)
    with torch.no_grad():
        w = conv.weight
        torch.nn.init.dirac_(w[:min(cin, cout)])
    return conv


def fast_norm(c):
    norm = torch.nn.BatchNorm2d(c, eps=1e-12, momentum=0.4)
    norm.weight.requires_grad = False
    return norm


class Airbench(torch.nn.Module):
    def __init__(self, classes, widths=(64, 256, 256)):
        super().__init__()
        self.whiten = torch.nn.Conv2d(3, 24, 2, padding=0, bias=True)
        self.whiten.weight.requires_grad = False
        with torch.no_grad():
            self.whiten.bias.zero_()
        self.groups = torch.nn.ModuleList()
        cin = 24
        for w in widths:
            self.groups.append(ConvGroup(cin, w))
            cin = w
        self.head = torch.nn.Linear(cin, classes, bias=False)

    def forward(self, x):
        x = F.gelu(self.whiten(x))
        for g in self.groups:
            x = g(x)
        return self.head(x.flatten(2).amax(2)) / 9


class FastSeResNeXt(torch.nn.Module):
    """`memes train --preset P --recipe fast` for an SE-ResNeXt preset (train/README.md): the frozen
    whitening layer and GELU before the stem (whose conv takes 24 channels), He init kept, BatchNorm
    weights frozen except bn_expand's, momentum 0.4 (LibTorch's eps), biases at the common rate."""
    def __init__(self, config):
        super().__init__()
        self.whiten = torch.nn.Conv2d(3, 24, 2, padding=0, bias=True)
        self.whiten.weight.requires_grad = False
        with torch.no_grad():
            self.whiten.bias.zero_()
        self.net = se_resnext.SeResNeXt(config)
        self.net.stem_conv = torch.nn.Conv2d(24, config["stem_channels"], 3, padding=1, bias=False)
        torch.nn.init.kaiming_normal_(self.net.stem_conv.weight, mode="fan_out", nonlinearity="relu")
        for name, m in self.net.named_modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.momentum = 0.4
                m.weight.requires_grad = name.endswith("bn_expand")

    def forward(self, x):
        return self.net(F.gelu(self.whiten(x)))


def init_whitening(conv, images, eps=5e-4):
    c = images.shape[1]
    patches = images.double().unfold(2, 2, 1).unfold(3, 2, 1).permute(0, 2, 3, 1, 4, 5).reshape(-1, c * 4)
    cov = patches.T @ patches / patches.shape[0]
    values, vectors = torch.linalg.eigh(cov)
    values = values.flip(0).clamp_min(0)
    filters = vectors.T.flip(0) / (values + eps).sqrt().unsqueeze(1)
    filters = filters.reshape(c * 4, c, 2, 2).float()
    with torch.no_grad():
        conv.weight.copy_(torch.cat([filters, -filters]))


def tta_logits(model, x):
    def mirror(v):
        return 0.5 * model(v) + 0.5 * model(v.flip(-1))
    s = x.shape[-1]
    padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
    return 0.5 * mirror(x) + 0.25 * mirror(padded[:, :, 0:s, 0:s]) + 0.25 * mirror(padded[:, :, 2:s + 2, 2:s + 2])


def main_fast(a, train_x, train_y, test_x, test_y, mean, std, classes, size):
    """The fast recipe (see the module docstring); CPU only."""
    n = train_x.shape[0]
    batch = a.batch_size if a.batch_size else 1024
    if not a.batch_size:
        while batch > 64 and batch * 8 > n:
            batch //= 2
    epochs = a.epochs
    momentum = 0.85
    kilostep = 1024 * (1 + 1 / (1 - momentum))
    lr = 11.5 / kilostep
    wd = 0.0153 * batch / kilostep
    if a.preset == "fast":
        model = Airbench(classes, widths=tuple(int(w) for w in a.widths.split(",")))
        bias_scale = 64
    else:
        model = FastSeResNeXt(se_resnext.preset(a.preset, classes, size))
        bias_scale = 1
    init_whitening(model.whiten, (train_x[:5000].float() / 255 - mean) / std)
    biases = [m.bias for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    bias_ids = {id(b) for b in biases}
    others = [p for p in model.parameters() if id(p) not in bias_ids and p.requires_grad]
    optimizer = torch.optim.SGD([dict(params=biases, lr=lr * bias_scale, weight_decay=wd / (lr * bias_scale)),
                                 dict(params=others, lr=lr, weight_decay=wd / lr)],
                                momentum=momentum, nesterov=True)
    scales = [bias_scale, 1]
    steps = n // batch + (1 if n % batch > 1 else 0)
    total = steps * epochs
    tracked = list(model.parameters()) + [b for b in model.buffers() if b.is_floating_point()]
    ema = [t.detach().clone() for t in tracked]

    def rate(progress):
        rise = 0.23 * epochs
        if progress < rise:
            return lr * (0.2 + 0.8 * progress / rise)
        return lr * (1 - 0.93 * min(1.0, (progress - rise) / (epochs - rise)))

    generator = torch.Generator().manual_seed(a.seed)
    flip_coin = torch.rand(n, generator=generator) < 0.5
    step = 0
    elapsed = 0.0
    for epoch in range(epochs):
        model.train()
        model.whiten.bias.requires_grad = epoch < 3
        if epoch >= 3:
            model.whiten.bias.grad = None
        started = time.time()
        order = torch.randperm(n, generator=generator)
        loss_sum, correct, seen = 0.0, 0, 0
        for b in range(steps):
            index = order[b * batch:(b + 1) * batch]
            images = (train_x[index].float() / 255 - mean) / std
            padded = F.pad(images, (2, 2, 2, 2))
            shifts = torch.randint(0, 5, (len(index), 2), generator=generator)
            images = torch.stack([padded[i, :, y:y + size, x:x + size]
                                  for i, (y, x) in enumerate(shifts.tolist())])
            flip = flip_coin[index] ^ (epoch % 2 == 1)
            images[flip] = images[flip].flip(3)
            labels = train_y[index]
            for group, scale in zip(optimizer.param_groups, scales):
                group["lr"] = rate(epoch + b / steps) * scale
            logits = model(images)
            loss = F.cross_entropy(logits, labels, label_smoothing=0.2, reduction="sum")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            if step % 5 == 0:
                decay = 0.95 ** 5 * (step / total) ** 3
                with torch.no_grad():
                    for e, t in zip(ema, tracked):
                        e.lerp_(t, 1 - decay)
                        t.copy_(e)
            loss_sum += loss.item()
            correct += (logits.argmax(1) == labels).sum().item()
            seen += len(index)
        if epoch + 1 == epochs:
            with torch.no_grad():
                for e, t in zip(ema, tracked):
                    t.copy_(e)
        train_seconds = time.time() - started
        elapsed += train_seconds
        model.eval()
        test_correct = 0
        with torch.no_grad():
            for b in range(0, test_x.shape[0], 1024):
                images = (test_x[b:b + 1024].float() / 255 - mean) / std
                tta = a.tta_every_epoch or epoch + 1 == epochs
                logits = tta_logits(model, images) if tta else model(images)
                test_correct += (logits.argmax(1) == test_y[b:b + 1024]).sum().item()
        print(json.dumps({"epoch": epoch + 1, "train_seconds": train_seconds, "elapsed_train_seconds": elapsed,
                          "images_per_s": seen / train_seconds, "train_loss": loss_sum / seen,
                          "train_acc": correct / seen, "test_acc": test_correct / test_x.shape[0],
                          "test_views": 6 if a.tta_every_epoch or epoch + 1 == epochs else 1}),
              flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("shards")
    p.add_argument("--preset", default="small")
    p.add_argument("--recipe", default="classic",
                   help="classic | fast: an SE-ResNeXt preset with the fast recipe (the fast preset always is)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=0, help="0: 128 (fast: 1024, scaled down)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--widths", default="32,64,64",
                   help="fast: the conv groups' widths (memes's fast preset; airbench: 64,256,256)")
    p.add_argument("--limit-train", type=int, default=0)
    p.add_argument("--limit-test", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--tta-every-epoch", action="store_true",
                   help="fast: 6-view TTA on every epoch's test (default: the last; as memes train)")
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
    if a.preset == "fast" or a.recipe == "fast":
        main_fast(a, train_x, train_y, test_x, test_y, mean, std, len(manifest["classes"]), size)
        return
    if not a.batch_size:
        a.batch_size = 128

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
