"""Parity check run by train/model_test.cpp: builds the Python SE-ResNeXt from the C++ config,
loads the C++ weights, runs the C++ input and compares with the C++ logits.
Usage: parity_check.py DIR   (DIR holds config.json, weights.bin(.txt), io.bin(.txt))
Exit 0 and prints the max abs difference when within 1e-4; exit 1 otherwise."""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import se_resnext  # noqa: E402

folder = sys.argv[1]
config = se_resnext.read_config(os.path.join(folder, "config.json"))
model = se_resnext.SeResNeXt(config)
weights = se_resnext.load_tensors(os.path.join(folder, "weights.bin"))
state = {k: (v.to(torch.long).reshape(()) if k.endswith("num_batches_tracked") else v)
         for k, v in weights.items()}
model.load_state_dict(state, strict=True)
model.eval()
io = se_resnext.load_tensors(os.path.join(folder, "io.bin"))
torch.set_num_threads(1)
with torch.no_grad():
    logits = model(io["input"])
difference = (logits - io["logits"]).abs().max().item()
print("max abs difference %.3g over %d logits" % (difference, logits.numel()))
sys.exit(0 if difference <= 1e-4 else 1)
