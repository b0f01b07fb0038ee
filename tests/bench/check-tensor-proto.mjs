// check-tensor-proto.mjs: holds tensor-proto.mjs to ONNX's own files.
//
// Every float32 TensorProto with raw_data under ONNX's node test data is
// decoded, then encoded again: the bytes must come out identical. Every
// other file must at least decode to as many values as its dims say.
//
//   node check-tensor-proto.mjs [DIR]   (default /usr/share/libonnx-testdata/data/node)

import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DTYPE, decodeTensor, encodeFloatTensor } from './tensor-proto.mjs';

const root = process.argv[2] ?? '/usr/share/libonnx-testdata/data/node';
if (!existsSync (root)) {
  console.log (`${root}: absent, nothing to check`);
  process.exit (0);
}

let roundTripped = 0;
let decodedOnly = 0;
let skipped = 0;
const failures = [];
for (const test of readdirSync (root).sort ()) {
  const dir = join (root, test, 'test_data_set_0');
  if (!existsSync (dir))
    continue;
  for (const file of readdirSync (dir).filter ((f) => f.endsWith ('.pb'))) {
    const path = join (dir, file);
    const bytes = readFileSync (path);
    let t;
    try {
      t = decodeTensor (bytes);
    } catch (e) {
      // Sequences, optionals and string tensors are other messages.
      if (/not numeric|wire type|typed data/.test (e.message)) {
        skipped++;
        continue;
      }
      failures.push (`${path}: ${e.message}`);
      continue;
    }
    const numel = t.dims.reduce ((a, d) => a * d, 1);
    if (t.values.length !== numel) {
      failures.push (`${path}: ${t.values.length} values for dims ${t.dims.join ('x')}`);
      continue;
    }
    if (t.dataType === DTYPE.FLOAT && t.hasRawData) {
      const again = encodeFloatTensor (t.dims, Float32Array.from (t.values), t.name);
      if (Buffer.compare (again, bytes) === 0)
        roundTripped++;
      else if (t.values.some (Number.isNaN))
        decodedOnly++; // NaN payloads do not survive a float64 round trip
      else
        failures.push (`${path}: re-encoded bytes differ (${again.length} vs ${bytes.length})`);
    } else {
      decodedOnly++;
    }
  }
}
console.log (`${root}: ${roundTripped} float tensors re-encoded byte for byte, ` +
             `${decodedOnly} others decoded, ${skipped} not plain numeric tensors`);
for (const f of failures)
  console.log (`FAIL ${f}`);
process.exit (failures.length ? 1 : 0);
