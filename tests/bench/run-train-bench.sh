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
# divided by PyTorch's (above 1: Graft is faster). Other work on a shared
# machine slows either side at random, so the two alternate for
# BENCH_ROUNDS rounds and the best round of each is divided (and the
# median ratio of the rounds is printed too). Environment:
#   BENCH_TRAIN    the bench-train binary
#                  (default /work/main/build/tests/bench/bench-train)
#   BENCH_THREADS  threads for both (default 2)
#   BENCH_BATCH    images per step (default 32)
#   BENCH_STEPS    timed steps (default 5)
#   BENCH_WARMUP   untimed steps before them (default 2)
#   BENCH_ROUNDS   alternating rounds of both (default 3)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bench=${BENCH_TRAIN:-/work/main/build/tests/bench/bench-train}
threads=${BENCH_THREADS:-2}
batch=${BENCH_BATCH:-32}
steps=${BENCH_STEPS:-5}
warmup=${BENCH_WARMUP:-2}
rounds=${BENCH_ROUNDS:-3}

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
  graft_all= torch_all= ratios=
  for round in $(seq "$rounds"); do
    graft=$("$bench" --threads "$threads" --batch "$batch" --steps "$steps" \
              --warmup "$warmup" "$model")
    torch=$(/usr/bin/python3 "$here/bench-train-torch.py" --threads "$threads" \
              --batch "$batch" --steps "$steps" \
              --warmup "$warmup" "$model")
    if [ "$round" -eq 1 ]; then
      echo "$graft" | sed 's/^/graft:   /'
      echo "$torch" | sed 's/^/pytorch: /'
    fi
    g=$(echo "$graft" | sed -n 's/^images\/s //p')
    t=$(echo "$torch" | sed -n 's/^images\/s //p')
    r=$(echo "$g $t" | awk '{ printf "%.2f", $1 / $2 }')
    echo "round $round: graft $g, pytorch $t images/s, ratio $r (load $(cut -d' ' -f1 /proc/loadavg))"
    graft_all="$graft_all $g" torch_all="$torch_all $t" ratios="$ratios $r"
  done
  gb=$(echo $graft_all | tr ' ' '\n' | sort -g | tail -1)
  tb=$(echo $torch_all | tr ' ' '\n' | sort -g | tail -1)
  rm=$(echo $ratios | tr ' ' '\n' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  echo "best of $rounds: graft $gb, pytorch $tb images/s"
  echo "graft / pytorch images/s: $(echo "$gb $tb" | awk '{ printf "%.2f", $1 / $2 }') (best of each; median of rounds $rm)"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
