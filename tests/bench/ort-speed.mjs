// ort-speed.mjs: onnxruntime-node's inference speed, the yardstick for
// bench-inference (the same models, batches and timing rule).
//
//   node ort-speed.mjs [--threads 2] [--seconds 3] [--batch 1 --batch 8]
//                      [--shape NAME=1x3x224x224] [--json] MODEL.onnx ...
//
// Per model and batch: a session on the CPU with intraOpNumThreads 2 and
// onnxruntime's default graph optimizations, 3 warm-up runs, then runs
// until `seconds` have passed (at least 5); prints the mean ms per batch
// and images/s. --json prints one JSON object per line instead.

import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultModels, inputShapes, loadOrt, parseShapeFlags, randomFloats, seededRandom } from './bench-common.mjs';

const { values: opts, positionals } = parseArgs ({
  allowPositionals: true,
  options: {
    threads: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '3' },
    batch: { type: 'string', multiple: true },
    shape: { type: 'string', multiple: true, default: [] },
    json: { type: 'boolean', default: false },
  },
});
const threads = Number (opts.threads);
const seconds = Number (opts.seconds);
const batches = (opts.batch ?? ['1', '8']).map (Number);
if (!(threads >= 1) || !(seconds > 0) || batches.some ((b) => !Number.isInteger (b) || b < 1)) {
  console.error ('ort-speed: bad --threads, --seconds or --batch');
  process.exit (2);
}
const shapeFlags = parseShapeFlags (opts.shape);
const ort = await loadOrt ();

async function timeModel (model, batch) {
  const session = await ort.InferenceSession.create (model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const rand = seededRandom (1);
  const feeds = {};
  for (const { name, dims } of inputShapes (session, batch, shapeFlags))
    feeds[name] = new ort.Tensor ('float32', randomFloats (dims.reduce ((a, d) => a * d, 1), rand, 'uniform'), dims);
  for (let i = 0; i < 3; i++)
    await session.run (feeds);
  let runs = 0;
  const start = performance.now ();
  let elapsed = 0;
  while (elapsed < seconds * 1000 || runs < 5) {
    await session.run (feeds);
    runs++;
    elapsed = performance.now () - start;
  }
  await session.release ();
  const msPerBatch = elapsed / runs;
  return { model: basename (model), runtime: 'onnxruntime', threads, batch, runs,
           ms_per_batch: msPerBatch, images_per_s: (1000 * batch) / msPerBatch };
}

const models = positionals.length ? positionals : defaultModels ();
let status = 0;
for (const model of models) {
  if (!existsSync (model)) {
    if (!opts.json)
      console.log (`${basename (model)}: absent (${model}), skipped`);
    continue;
  }
  for (const batch of batches) {
    try {
      const r = await timeModel (model, batch);
      if (opts.json)
        console.log (JSON.stringify (r));
      else
        console.log (`${r.model} batch ${batch}: ${r.ms_per_batch.toFixed (2)} ms per batch, ` +
                     `${r.images_per_s.toFixed (1)} images/s (${r.runs} runs, ${threads} threads)`);
    } catch (e) {
      console.error (`${basename (model)} batch ${batch}: ${e.message.split ('\n')[0]}`);
      status = 1;
    }
  }
}
process.exit (status);
