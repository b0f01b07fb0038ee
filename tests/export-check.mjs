// export-check.mjs: an exported model through onnxruntime, the second
// opinion test-cli-train compares with Graft's own results.
//
//   node export-check.mjs MODEL.onnx INPUT.pb...
//
// Each INPUT.pb is a TensorProto (as `graft-cli classify --dump-input`
// writes) fed alone to the model's first input; prints one JSON array with,
// per file, the model's first output:
//   [ { "file": "INPUT.pb", "output": "probabilities", "dims": [1, 2], "values": [...] } ]
// onnxruntime-node and the TensorProto codec come from tests/bench (its
// package-lock.json pins the version). Exit status: 0, 1 when onnxruntime
// fails, 2 on bad usage, 3 when onnxruntime-node is not installed.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DTYPE, decodeTensor } from './bench/tensor-proto.mjs';

const bench = join (dirname (fileURLToPath (import.meta.url)), 'bench');
const args = process.argv.slice (2);
if (args.length < 2) {
  console.error ('usage: node export-check.mjs MODEL.onnx INPUT.pb...');
  process.exit (2);
}

let ort;
try {
  ort = createRequire (join (bench, 'package.json')) ('onnxruntime-node');
} catch (e) {
  console.error (`export-check: onnxruntime-node is not installed (${e.message.split ('\n')[0]}); ` +
                 `run: cd ${bench} && npm ci --ignore-scripts`);
  process.exit (3);
}

try {
  // One thread: the result must not depend on how the work is split.
  const session = await ort.InferenceSession.create (args[0], {
    intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'disabled',
  });
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  const results = [];
  for (const file of args.slice (1)) {
    const t = decodeTensor (readFileSync (file));
    if (t.dataType !== DTYPE.FLOAT)
      throw new Error (`${file}: data type ${t.dataType}, not float`);
    const feed = { [inputName]: new ort.Tensor ('float32', Float32Array.from (t.values), t.dims) };
    const out = (await session.run (feed))[outputName];
    results.push ({ file, output: outputName, dims: out.dims.map (Number), values: Array.from (out.data) });
  }
  console.log (JSON.stringify (results));
} catch (e) {
  console.error (`export-check: ${args[0]}: ${e.message}`);
  process.exit (1);
}
