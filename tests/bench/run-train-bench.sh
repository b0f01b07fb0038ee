#!/bin/sh
# run-train-bench.sh: Graft's whole-network training speed beside PyTorch's.
#
#   tests/bench/run-train-bench.sh [MODEL.onnx ...]
#
# For each model (default: resnet18 and mobilenet_v2 from
# /work/shared/models/bench), runs bench-train (Graft) and
# bench-train-torch.py (PyTorch 1.13 with torchvision's model of the same
# name, from Debian's python3-torch and python3-torchvision) one after the
# other on the same thread count, and prints both and Graft's images/s
# divided by PyTorch's (above 1: Graft is faster). Environment:
#   BENCH_TRAIN    the bench-train binary
#                  (default /work/main/build/tests/bench/bench-train)
#   BENCH_THREADS  threads for both (default 2)
#   BENCH_BATCH    images per step (default 32)
#   BENCH_STEPS    timed steps (default 5)
#   BENCH_WARMUP   untimed steps before them (default 2)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bench=${BENCH_TRAIN:-/work/main/build/tests/bench/bench-train}
threads=${BENCH_THREADS:-2}
batch=${BENCH_BATCH:-32}
steps=${BENCH_STEPS:-5}
warmup=${BENCH_WARMUP:-2}

if [ ! -x "$bench" ]; then
  echo "run-train-bench: no bench-train at $bench (set BENCH_TRAIN)" >&2
  exit 2
fi
if ! /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then
  echo "run-train-bench: needs python3-torch and python3-torchvision (apt)" >&2
  exit 2
fi
if [ $# -eq 0 ]; then
  set -- /work/shared/models/bench/resnet18_random.onnx \
         /work/shared/models/bench/mobilenet_v2_random.onnx
fi

# Other work on the machine distorts the figures: say how busy it was.
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
for model in "$@"; do
  echo "== $(basename "$model")"
  graft=$("$bench" --threads "$threads" --batch "$batch" --steps "$steps" \
            --warmup "$warmup" "$model")
  echo "$graft" | sed 's/^/graft:   /'
  torch=$(/usr/bin/python3 "$here/bench-train-torch.py" --threads "$threads" \
            --batch "$batch" --steps "$steps" \
            --warmup "$warmup" "$model")
  echo "$torch" | sed 's/^/pytorch: /'
  g=$(echo "$graft" | sed -n 's/^images\/s //p')
  t=$(echo "$torch" | sed -n 's/^images\/s //p')
  echo "graft / pytorch images/s: $(echo "$g $t" | awk '{ printf "%.2f", $1 / $2 }')"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
