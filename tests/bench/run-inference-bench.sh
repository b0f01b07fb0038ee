#!/bin/sh
# run-inference-bench.sh: Graft's inference speed beside onnxruntime's.
#
#   tests/bench/run-inference-bench.sh [MODEL.onnx ...]
#
# For each model (default: the list in bench-common.mjs) and batch 1 and 8,
# times bench-inference (Graft's engine) and ort-speed.mjs (onnxruntime-node)
# one after the other on the same number of threads, and prints a table
# whose last column is graft images/s / onnxruntime images/s (above 1:
# Graft is faster). Environment:
#   BENCH_INFERENCE  the bench-inference binary
#                    (default /work/main/build/tests/bench/bench-inference)
#   BENCH_THREADS    threads for both (default 2)
#   BENCH_SECONDS    timed seconds per model and batch (default 3)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bench=${BENCH_INFERENCE:-/work/main/build/tests/bench/bench-inference}
threads=${BENCH_THREADS:-2}
seconds=${BENCH_SECONDS:-3}

if [ ! -x "$bench" ]; then
  echo "run-inference-bench: no bench-inference at $bench (set BENCH_INFERENCE)" >&2
  exit 2
fi
if [ ! -d "$here/node_modules/onnxruntime-node" ]; then
  echo "run-inference-bench: run 'cd $here && npm install --ignore-scripts' first" >&2
  exit 2
fi

if [ $# -eq 0 ]; then
  set -- $(cd "$here" && node --input-type=module \
    -e "import { defaultModels } from './bench-common.mjs'; console.log (defaultModels ().join ('\n'))")
fi

# Other work on the machine distorts the figures (OpenMP's barriers wait
# for a descheduled thread): say how busy it was.
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"

results=$(mktemp)
trap 'rm -f "$results"' EXIT
status=0
for model in "$@"; do
  if [ ! -f "$model" ]; then
    echo "$(basename "$model"): absent, skipped" >&2
    continue
  fi
  # Both runtimes see the same thread count; OpenMP and OpenBLAS read these
  # at start-up (bench-inference also sets them with --threads).
  OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads \
    "$bench" --json --threads "$threads" --seconds "$seconds" "$model" >>"$results" || status=1
  node "$here/ort-speed.mjs" --json --threads "$threads" --seconds "$seconds" "$model" >>"$results" || status=1
done

node --input-type=module -e '
import { readFileSync } from "node:fs";
const rows = readFileSync (process.argv[1], "utf8").split ("\n").filter (Boolean).map (JSON.parse);
const key = (r) => `${r.model}\t${r.batch}`;
const graft = new Map (rows.filter ((r) => r.runtime === "graft").map ((r) => [key (r), r]));
const ort = new Map (rows.filter ((r) => r.runtime === "onnxruntime").map ((r) => [key (r), r]));
const keys = [...new Set (rows.map (key))];
const cell = (r, f, digits) => (r ? r[f].toFixed (digits) : "-");
const table = [["model", "batch", "graft ms", "graft img/s", "ort ms", "ort img/s", "graft/ort"]];
for (const k of keys) {
  const g = graft.get (k), o = ort.get (k);
  const [model, batch] = k.split ("\t");
  table.push ([model, batch, cell (g, "ms_per_batch", 2), cell (g, "images_per_s", 1),
               cell (o, "ms_per_batch", 2), cell (o, "images_per_s", 1),
               g && o ? (g.images_per_s / o.images_per_s).toFixed (2) : "-"]);
}
const widths = table[0].map ((_, c) => Math.max (...table.map ((row) => row[c].length)));
for (const [i, row] of table.entries ()) {
  console.log (row.map ((s, c) => (c < 2 ? s.padEnd (widths[c]) : s.padStart (widths[c]))).join ("  "));
  if (i === 0)
    console.log (widths.map ((w) => "-".repeat (w)).join ("  "));
}
' "$results"
echo "($threads threads, ${seconds} s per cell; images/s = batch / mean time per batch;" \
  "load average after: $(cut -d' ' -f1-3 /proc/loadavg))"
exit $status
