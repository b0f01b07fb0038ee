// bench-common.mjs: what ort-compare.mjs and ort-speed.mjs share: the
// default model list, seeded random inputs, input shapes and loading
// onnxruntime-node.

import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname (fileURLToPath (import.meta.url));
export const sourceRoot = resolve (here, '..', '..');

const sharedModels = '/work/shared/models';

// The bench models (PyTorch exports with BatchNormalization nodes), the
// bundled 8-bit MobileNets and their float twins, in that order.
export function defaultModels () {
  const list = [
    join (sharedModels, 'bench', 'resnet18_random.onnx'),
    join (sharedModels, 'bench', 'mobilenet_v2_random.onnx'),
  ];
  const bundled = join (sourceRoot, 'data', 'models');
  if (existsSync (bundled))
    for (const f of readdirSync (bundled).sort ())
      if (f.endsWith ('.onnx'))
        list.push (join (bundled, f));
  // The float twins; the _qdq files there are the bundled ones again.
  if (existsSync (sharedModels))
    for (const f of readdirSync (sharedModels).sort ())
      if (f.endsWith ('.onnx') && !f.endsWith ('_qdq.onnx'))
        list.push (join (sharedModels, f));
  return list;
}

export async function loadOrt () {
  try {
    return await import ('onnxruntime-node');
  } catch (e) {
    console.error (`cannot load onnxruntime-node (${e.message}); ` +
                   `run: cd ${here} && npm install --ignore-scripts`);
    process.exit (2);
  }
}

// mulberry32: a small seeded generator, so every run feeds the same input.
export function seededRandom (seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul (t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul (t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Uniform in [-1, 1), or standard normal (Box-Muller).
export function randomFloats (n, rand, dist) {
  const out = new Float32Array (n);
  for (let i = 0; i < n; i++) {
    if (dist === 'normal') {
      const u = 1 - rand ();
      out[i] = Math.sqrt (-2 * Math.log (u)) * Math.cos (2 * Math.PI * rand ());
    } else {
      out[i] = 2 * rand () - 1;
    }
  }
  return out;
}

// "NAME=1x3x224x224" flags to a map name -> dims.
export function parseShapeFlags (flags) {
  const shapes = new Map ();
  for (const flag of flags) {
    const eq = flag.lastIndexOf ('=');
    const dims = flag.slice (eq + 1).split ('x').map (Number);
    if (eq <= 0 || dims.some ((d) => !Number.isInteger (d) || d < 0))
      throw new Error (`--shape takes NAME=1x3x224x224, not '${flag}'`);
    shapes.set (flag.slice (0, eq), dims);
  }
  return shapes;
}

// Each graph input's name and concrete dims: the batch dim (first, when
// symbolic) becomes `batch`; a --shape flag overrides the metadata (its
// first dim is replaced by `batch` too, so one flag serves both batches).
export function inputShapes (session, batch, shapeFlags) {
  return session.inputNames.map ((name, i) => {
    const given = shapeFlags.get (name);
    if (given)
      return { name, dims: [batch, ...given.slice (1)] };
    const meta = session.inputMetadata?.[i] ?? session.inputMetadata?.[name];
    if (!meta || !meta.isTensor || !Array.isArray (meta.shape))
      throw new Error (`input '${name}': no shape in the model's metadata; give --shape ${name}=1x3x224x224`);
    if (meta.type !== 'float32')
      throw new Error (`input '${name}' is ${meta.type}; only float32 inputs are generated`);
    const dims = meta.shape.map ((d, k) => {
      if (k === 0 && typeof d !== 'number')
        return batch;
      if (typeof d !== 'number' || d < 0)
        throw new Error (`input '${name}' dim ${k} is '${d}'; give --shape ${name}=...`);
      return d;
    });
    if (typeof meta.shape[0] === 'number' && meta.shape[0] !== batch)
      throw new Error (`input '${name}' has a fixed batch of ${meta.shape[0]}, asked for ${batch}`);
    return { name, dims };
  });
}
