// ort-compare.mjs: does `graft-cli run` give what onnxruntime gives?
//
// For each model: a seeded random input of the model's input shape (batch
// 1 unless --batch), written as a TensorProto file; `graft-cli run` on it; the same input
// through onnxruntime-node (CPU); every output compared element by element.
//
//   node ort-compare.mjs [options] [MODEL.onnx ...]
//     --graft-cli PATH   (default: $GRAFT_CLI, else /work/main/build/app/cli/graft-cli)
//     --shape NAME=1x3x224x224   input shape when the model does not say
//     --seed N           random seed (default 1)
//     --batch N          batch size (default 1)
//     --dist uniform|normal      input values: uniform in [-1, 1) or N(0, 1)
//     --rtol R --atol A  tolerance (default 1e-4 and 1e-5)
//     --per-output       one line per output as well (for diagnosis)
//     --keep DIR         keep the input and output .pb files under DIR
//
// An element agrees when |graft - ort| <= rtol * max(|ort|, S * atol / rtol)
// where S is the output's scale, max |ort| over the tensor capped at 1:
// relative for values of magnitude >= S * atol / rtol (S / 10 by
// default), held to the absolute floor S * atol below that. The scale keeps
// the floor meaningful for outputs far below 1 (a randomly initialized
// network's logits can be 1e-10). "max rel diff" is the largest
// |graft - ort| / max(|ort|, S * atol / rtol), so PASS means it is <= rtol.
// Exit status: 0 when every model passes, 1 when one fails, 2 on bad usage.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultModels, inputShapes, loadOrt, parseShapeFlags, randomFloats, seededRandom } from './bench-common.mjs';
import { decodeTensor, encodeFloatTensor } from './tensor-proto.mjs';

const { values: opts, positionals } = parseArgs ({
  allowPositionals: true,
  options: {
    'graft-cli': { type: 'string' },
    shape: { type: 'string', multiple: true, default: [] },
    seed: { type: 'string', default: '1' },
    batch: { type: 'string', default: '1' },
    dist: { type: 'string', default: 'uniform' },
    rtol: { type: 'string', default: '1e-4' },
    atol: { type: 'string', default: '1e-5' },
    'per-output': { type: 'boolean', default: false },
    keep: { type: 'string' },
  },
});

const graftCli = opts['graft-cli'] ?? process.env.GRAFT_CLI ?? '/work/main/build/app/cli/graft-cli';
const rtol = Number (opts.rtol);
const atol = Number (opts.atol);
const seed = Number (opts.seed);
const batch = Number (opts.batch);
if (!(rtol > 0) || !(atol >= 0) || !Number.isInteger (seed) || !['uniform', 'normal'].includes (opts.dist) ||
    !Number.isInteger (batch) || batch < 1) {
  console.error ('ort-compare: bad --rtol, --atol, --seed, --dist or --batch');
  process.exit (2);
}
if (!existsSync (graftCli)) {
  console.error (`ort-compare: no graft-cli at ${graftCli} (use --graft-cli or GRAFT_CLI)`);
  process.exit (2);
}
const shapeFlags = parseShapeFlags (opts.shape);
const ort = await loadOrt ();

// The file name `graft-cli run` gives an output (cli-run.c: safe_file_name).
function outputFileName (name) {
  let s = (name || 'output').replace (/[^A-Za-z0-9._-]/g, '_');
  if (s.startsWith ('.'))
    s = '_' + s.slice (1);
  return s + '.pb';
}

function compareValues (graft, reference) {
  let scale = 0;
  for (let i = 0; i < reference.length; i++)
    if (Number.isFinite (Number (reference[i])))
      scale = Math.max (scale, Math.abs (Number (reference[i])));
  scale = Math.min (scale, 1);
  const floor = Math.max ((scale * atol) / rtol, Number.MIN_VALUE);
  let maxAbs = 0;
  let maxRel = 0;
  let worst = reference.length ? 0 : -1;
  for (let i = 0; i < reference.length; i++) {
    const g = graft[i];
    const o = Number (reference[i]);
    let d = Math.abs (g - o);
    if (Number.isNaN (g) || Number.isNaN (o))
      d = Number.isNaN (g) && Number.isNaN (o) ? 0 : Infinity;
    else if (g === o)
      d = 0; // equal infinities
    const rel = d / Math.max (Math.abs (o), floor);
    if (d > maxAbs)
      maxAbs = d;
    if (rel > maxRel) {
      maxRel = rel;
      worst = i;
    }
  }
  return { maxAbs, maxRel, worst, scale };
}

const fmt = (x) => (x === 0 ? '0' : x.toExponential (2));

async function compareModel (modelPath, workDir) {
  const label = basename (modelPath);
  const session = await ort.InferenceSession.create (modelPath, { executionProviders: ['cpu'] });
  const rand = seededRandom (seed);
  const feeds = {};
  const cliArgs = ['run', modelPath];
  for (const { name, dims } of inputShapes (session, batch, shapeFlags)) {
    const data = randomFloats (dims.reduce ((a, d) => a * d, 1), rand, opts.dist);
    feeds[name] = new ort.Tensor ('float32', data, dims);
    const file = join (workDir, `input-${outputFileName (name)}`);
    writeFileSync (file, encodeFloatTensor (dims, data, name));
    cliArgs.push ('--input', `${name}=${file}`);
  }
  const outDir = join (workDir, 'graft');
  cliArgs.push ('--output-dir', outDir);

  const started = performance.now ();
  const cli = spawnSync (graftCli, cliArgs, { encoding: 'utf8' });
  const graftMs = performance.now () - started;
  if (cli.status !== 0) {
    const why = (cli.stderr || cli.error?.message || `exit ${cli.status}`).trim ().split ('\n').pop ();
    return { ok: false, line: `${label}: graft-cli run failed: ${why}: FAIL` };
  }
  const results = await session.run (feeds);

  let maxAbs = 0;
  let maxRel = 0;
  let ok = true;
  let firstFailing = null;
  const notes = [];
  for (const name of session.outputNames) {
    const expected = results[name];
    const file = join (outDir, outputFileName (name));
    if (!existsSync (file)) {
      ok = false;
      notes.push (`  ${name}: graft-cli wrote no ${basename (file)}`);
      continue;
    }
    const got = decodeTensor (readFileSync (file));
    const expectedDims = expected.dims.map (Number);
    if (got.dims.join ('x') !== expectedDims.join ('x')) {
      ok = false;
      notes.push (`  ${name}: graft shape ${got.dims.join ('x')}, onnxruntime ${expectedDims.join ('x')}`);
      continue;
    }
    const c = compareValues (got.values, expected.data);
    maxAbs = Math.max (maxAbs, c.maxAbs);
    maxRel = Math.max (maxRel, c.maxRel);
    const pass = c.maxRel <= rtol;
    if (!pass || opts['per-output']) {
      const at = c.worst >= 0 ? `, worst at [${c.worst}]: graft ${got.values[c.worst]}, onnxruntime ${expected.data[c.worst]}` : '';
      notes.push (`  ${name} (${expectedDims.join ('x')}, scale ${fmt (c.scale)}): max abs diff ${fmt (c.maxAbs)}, ` +
                  `max rel diff ${fmt (c.maxRel)}${at}: ${pass ? 'PASS' : 'FAIL'}`);
    }
    if (!pass && firstFailing === null)
      firstFailing = name;
    ok = ok && pass;
  }
  if (firstFailing !== null && opts['per-output'])
    notes.push (`  first failing output (graph output order): ${firstFailing}`);
  const line = `${label}: outputs ${session.outputNames.length}, max abs diff ${fmt (maxAbs)}, ` +
               `max rel diff ${fmt (maxRel)}: ${ok ? 'PASS' : 'FAIL'}`;
  return { ok, line, notes, graftMs };
}

const models = positionals.length ? positionals : defaultModels ();
let failed = 0;
for (const model of models) {
  if (!existsSync (model)) {
    console.log (`${basename (model)}: absent (${model}), skipped`);
    continue;
  }
  const workDir = opts.keep ? join (opts.keep, basename (model, '.onnx')) : mkdtempSync (join (tmpdir (), 'ort-compare-'));
  mkdirSync (workDir, { recursive: true });
  let r;
  try {
    r = await compareModel (model, workDir);
  } catch (e) {
    r = { ok: false, line: `${basename (model)}: ${e.message.split ('\n')[0]}: FAIL` };
  } finally {
    if (!opts.keep)
      rmSync (workDir, { recursive: true, force: true });
  }
  console.log (r.line);
  for (const note of r.notes ?? [])
    console.log (note);
  if (!r.ok)
    failed++;
}
if (failed)
  console.log (`${failed} model(s) FAILED (rtol ${rtol}, atol ${atol}, seed ${seed}, ${opts.dist} input)`);
process.exit (failed ? 1 : 0);
