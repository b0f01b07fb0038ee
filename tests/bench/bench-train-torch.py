#!/usr/bin/python3
"""PyTorch's speed on the training step that bench-train.c times.

    /usr/bin/python3 tests/bench/bench-train-torch.py [--batch N] [--size S]
        [--steps K] [--warmup W] [--threads T] [--classes C] MODEL

MODEL is resnet18 or mobilenet_v2 (torchvision 0.14, Debian's
python3-torchvision, random weights), or a path whose file name contains
one of them. The classifier is replaced as Graft's trainer does (Dropout
0.2, then a Linear of C outputs, default 10); every layer trains,
BatchNorm in training mode, AdamW at a fixed learning rate,
F.cross_entropy with label smoothing 0.1 and gradient clipping at norm 5
(Graft's defaults). W warm-up
steps (default 2), then K timed steps (default 5) on one batch of N
(default 32) random SxS images (default 224). Prints seconds per step,
images/s and peak RSS in the same words as bench-train.
"""
import argparse
import os
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

p = argparse.ArgumentParser()
p.add_argument("model")
p.add_argument("--batch", type=int, default=32)
p.add_argument("--size", type=int, default=224)
p.add_argument("--steps", type=int, default=5)
p.add_argument("--warmup", type=int, default=2)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--classes", type=int, default=10)
args = p.parse_args()

torch.set_num_threads(args.threads)
torch.manual_seed(1)

name = os.path.basename(args.model)
if "resnet18" in name:
    model = torchvision.models.resnet18()
    model.fc = nn.Sequential(nn.Dropout(0.2), nn.Linear(model.fc.in_features, args.classes))
elif "mobilenet_v2" in name:
    model = torchvision.models.mobilenet_v2()
    model.classifier = nn.Sequential(nn.Dropout(0.2),
                                     nn.Linear(model.last_channel, args.classes))
else:
    raise SystemExit(f"bench-train-torch: no torchvision model for '{args.model}'")
model.train()
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-4)

images = torch.rand(args.batch, 3, args.size, args.size) * 2 - 1
labels = torch.randint(0, args.classes, (args.batch,))
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

for s in range(args.warmup + args.steps):
    if s == args.warmup:
        start = time.monotonic()
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(images), labels, label_smoothing=0.1)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    opt.step()
seconds = time.monotonic() - start

n_params = sum(p.numel() for p in model.parameters())
print(f"model torchvision {name} (torch {torch.__version__})")
print(f"trainable parameters {n_params}")
print(f"batch {args.batch}, {args.size}x{args.size}, {args.threads} threads, "
      f"{args.warmup} warm-up + {args.steps} timed steps, last loss {loss.item():.4f}")
print(f"seconds/step {seconds / args.steps:.3f}")
print(f"images/s {args.batch * args.steps / seconds:.2f}")
print(f"peak RSS MiB {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} "
      f"({rss_before:.0f} before the first step)")
