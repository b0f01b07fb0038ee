#!/usr/bin/python3
"""Reference training run for tests/test-trainer-reference.c, in PyTorch.

Run by hand with Debian's python3-torch and python3-onnx (never by CI):
    /usr/bin/python3 tests/reference/make-training-fixture.py

A small MobileNet-like CNN (3x3 conv + BatchNorm + ReLU6; a depthwise 3x3
stride-2 conv + BN + ReLU6 and a 1x1 conv + BN; an inverted-residual block
with a skip Add; global average pooling; a linear head) is exported to
ONNX, then trained in PyTorch on one fixed batch, BatchNorm in training
mode, with F.cross_entropy (no smoothing, no class weights, no clipping).
Written to tests/data/torch-reference/:

  model.onnx            the starting weights, BatchNormalization kept as nodes
  input.pb, labels.pb   the batch (4x3x16x16 float, 4 int64 labels)
  loss                  the loss of the first forward pass, as text
  grad-NAME.pb          d loss / d parameter, one per learned initializer
  sgd-NAME.pb           every initializer (parameters and BN running
                        statistics) after 5 SGD steps from the start
  adamw-NAME.pb         the same after 5 AdamW steps from the start

NAME is the ONNX initializer's name, which is the PyTorch state_dict key
(the script checks that they all match). Weight decay applies to weights
with two or more dimensions only (biases and BN scales and shifts have
none), as Graft's trainer does: two parameter groups.
"""
import copy
import os

import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

torch.manual_seed(1234)
here = os.path.dirname(os.path.abspath(__file__))
out_dir = os.path.join(here, "..", "data", "torch-reference")

N_STEPS = 5
SGD = dict(lr=0.05, momentum=0.9, weight_decay=1e-4)
ADAMW = dict(lr=1e-3, weight_decay=0.01)


def conv_bn(cin, cout, k, stride=1, groups=1, relu6=True, bias=False):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=bias),
              nn.BatchNorm2d(cout)]
    if relu6:
        layers.append(nn.ReLU6())
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, c, expand):
        super().__init__()
        hidden = c * expand
        self.expand = conv_bn(c, hidden, 1)
        self.depthwise = conv_bn(hidden, hidden, 3, groups=hidden)
        self.project = conv_bn(hidden, c, 1, relu6=False)

    def forward(self, x):
        return x + self.project(self.depthwise(self.expand(x)))


class TinyMobileNet(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        # Convs before a BatchNorm have no bias, as in torchvision: in
        # training mode its gradient is zero in exact arithmetic, and Adam
        # would step it by float noise (PyTorch's and ours differ).
        self.stem = conv_bn(3, 8, 3)
        self.down_dw = conv_bn(8, 8, 3, stride=2, groups=8)
        self.down_pw = conv_bn(8, 16, 1, relu6=False)
        self.block = InvertedResidual(16, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, n_classes)

    def forward(self, x):
        x = self.down_pw(self.down_dw(self.stem(x)))
        x = self.block(x)
        return self.fc(torch.flatten(self.pool(x), 1))


model = TinyMobileNet()
# Non-trivial BN state, as a pretrained network has.
for m in model.modules():
    if isinstance(m, nn.BatchNorm2d):
        m.running_mean.uniform_(-0.2, 0.2)
        m.running_var.uniform_(0.5, 1.5)
        m.weight.data.uniform_(0.5, 1.5)
        m.bias.data.uniform_(-0.2, 0.2)
start = copy.deepcopy(model.state_dict())

x = torch.randn(4, 3, 16, 16)
# Shift the batch away from zero mean so BN's statistics matter.
x = x * 1.5 + 0.3
labels = torch.tensor([0, 2, 1, 2], dtype=torch.int64)

os.makedirs(out_dir, exist_ok=True)
for f in os.listdir(out_dir):
    if f.endswith(".pb") or f in ("model.onnx", "loss"):
        os.unlink(os.path.join(out_dir, f))

model.eval()
onnx_path = os.path.join(out_dir, "model.onnx")
torch.onnx.export(model, x, onnx_path,
                  input_names=["input"], output_names=["logits"],
                  dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                  opset_version=13, do_constant_folding=False,
                  keep_initializers_as_inputs=False,
                  training=torch.onnx.TrainingMode.PRESERVE)

onnx_model = onnx.load(onnx_path)
init_names = {t.name for t in onnx_model.graph.initializer}
ops = sorted({n.op_type for n in onnx_model.graph.node})
state_names = [k for k in start if not k.endswith("num_batches_tracked")]
missing = [k for k in state_names if k not in init_names]
assert not missing, f"state_dict keys without an ONNX initializer: {missing}"
assert "BatchNormalization" in ops, ops


def save(t, name, fname):
    proto = numpy_helper.from_array(t.detach().cpu().numpy(), name)
    with open(os.path.join(out_dir, fname), "wb") as f:
        f.write(proto.SerializeToString())


save(x, "input", "input.pb")
save(labels, "labels", "labels.pb")

# ---- the first forward and backward, BN in training mode ----
model.load_state_dict(start)
model.train()
model.zero_grad()
loss = F.cross_entropy(model(x), labels)
loss.backward()
with open(os.path.join(out_dir, "loss"), "w") as f:
    f.write(f"{loss.item():.9g}\n")
for name, p in model.named_parameters():
    save(p.grad, name, f"grad-{name}.pb")


def train(prefix, make_opt):
    m = TinyMobileNet()
    m.load_state_dict(start)
    m.train()
    decay = [p for p in m.parameters() if p.dim() >= 2]
    no_decay = [p for p in m.parameters() if p.dim() < 2]
    opt = make_opt(decay, no_decay)
    for _ in range(N_STEPS):
        opt.zero_grad()
        F.cross_entropy(m(x), labels).backward()
        opt.step()
    for name, t in m.state_dict().items():
        if not name.endswith("num_batches_tracked"):
            save(t, name, f"{prefix}-{name}.pb")
    return m


def make_sgd(decay, no_decay):
    return torch.optim.SGD([{"params": decay},
                            {"params": no_decay, "weight_decay": 0.0}],
                           lr=SGD["lr"], momentum=SGD["momentum"],
                           weight_decay=SGD["weight_decay"])


def make_adamw(decay, no_decay):
    return torch.optim.AdamW([{"params": decay},
                              {"params": no_decay, "weight_decay": 0.0}],
                             lr=ADAMW["lr"], weight_decay=ADAMW["weight_decay"])


train("sgd", make_sgd)
train("adamw", make_adamw)

total = sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir))
print(f"wrote {out_dir}: ops {ops}, loss {loss.item():.6f}, {total} bytes")
