// tensor-proto.mjs: ONNX TensorProto files (input_0.pb, the format of
// ONNX's test data and of `graft-cli run`), encoded and decoded by hand so
// that the comparison does not share a protobuf library with either side.
//
// TensorProto fields used (onnx.proto, proto2):
//   1 dims (repeated int64)   2 data_type (int32)   4 float_data (packed float)
//   5 int32_data              7 int64_data          8 name (string)
//   9 raw_data (bytes, little-endian)   10 double_data   11 uint64_data

// TensorProto.DataType numbers and the element size of each in raw_data.
export const DTYPE = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7,
  STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13,
};
const ELEM_SIZE = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8 };

function pushVarint (bytes, value) {
  let v = BigInt.asUintN (64, BigInt (value));
  while (v >= 0x80n) {
    bytes.push (Number (v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  bytes.push (Number (v));
}

function pushKey (bytes, field, wireType) {
  pushVarint (bytes, (field << 3) | wireType);
}

function pushLengthDelimited (bytes, field, payload) {
  pushKey (bytes, field, 2);
  pushVarint (bytes, payload.length);
  for (const b of payload)
    bytes.push (b);
}

// A float32 tensor as TensorProto bytes: dims one varint each (proto2's
// unpacked encoding, as onnx's own writer emits), data_type 1, name,
// raw_data little-endian.
export function encodeFloatTensor (dims, data, name) {
  if (!(data instanceof Float32Array))
    throw new TypeError ('encodeFloatTensor: data must be a Float32Array');
  const numel = dims.reduce ((a, d) => a * d, 1);
  if (numel !== data.length)
    throw new RangeError (`encodeFloatTensor: dims ${dims.join ('x')} hold ${numel} values, data has ${data.length}`);
  const head = [];
  for (const d of dims) {
    pushKey (head, 1, 0);
    pushVarint (head, d);
  }
  pushKey (head, 2, 0);
  pushVarint (head, DTYPE.FLOAT);
  if (name)
    pushLengthDelimited (head, 8, new TextEncoder ().encode (name));
  pushKey (head, 9, 2);
  pushVarint (head, data.length * 4);
  const raw = Buffer.alloc (data.length * 4);
  for (let i = 0; i < data.length; i++)
    raw.writeFloatLE (data[i], i * 4);
  return Buffer.concat ([Buffer.from (head), raw]);
}

class Reader {
  constructor (buf) {
    this.buf = buf;
    this.pos = 0;
  }

  varint () {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length)
        throw new Error ('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt (b & 0x7f) << shift;
      if ((b & 0x80) === 0)
        return BigInt.asIntN (64, result);
      shift += 7n;
    }
    throw new Error ('varint longer than 10 bytes');
  }

  bytes (n) {
    if (n < 0 || this.pos + n > this.buf.length)
      throw new Error ('field runs past the end of the buffer');
    const out = this.buf.subarray (this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip (wireType) {
    switch (wireType) {
      case 0: this.varint (); break;
      case 1: this.bytes (8); break;
      case 2: this.bytes (Number (this.varint ())); break;
      case 5: this.bytes (4); break;
      default: throw new Error (`unsupported wire type ${wireType}`);
    }
  }
}

// Repeated scalar fields arrive packed (wire type 2) or one at a time.
function readRepeated (r, wireType, fixedSize, readOne, out) {
  if (wireType === 2) {
    const payload = r.bytes (Number (r.varint ()));
    const sub = new Reader (payload);
    while (sub.pos < payload.length)
      out.push (readOne (sub, fixedSize));
  } else {
    out.push (readOne (r, fixedSize));
  }
}

const readVarintNumber = (r) => Number (r.varint ());
const readFloat32 = (r) => r.bytes (4).readFloatLE (0);
const readFloat64 = (r) => r.bytes (8).readDoubleLE (0);

function halfToFloat (h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0)
    return sign * frac * 2 ** -24;
  if (exp === 31)
    return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function rawToNumbers (raw, dataType, numel) {
  const size = ELEM_SIZE[dataType];
  if (size === undefined)
    throw new Error (`data_type ${dataType} is not numeric`);
  if (raw.length !== numel * size)
    throw new Error (`raw_data has ${raw.length} bytes, dims need ${numel * size}`);
  const out = new Float64Array (numel);
  for (let i = 0; i < numel; i++) {
    const o = i * size;
    switch (dataType) {
      case DTYPE.FLOAT: out[i] = raw.readFloatLE (o); break;
      case DTYPE.DOUBLE: out[i] = raw.readDoubleLE (o); break;
      case DTYPE.FLOAT16: out[i] = halfToFloat (raw.readUInt16LE (o)); break;
      case DTYPE.UINT8: case DTYPE.BOOL: out[i] = raw.readUInt8 (o); break;
      case DTYPE.INT8: out[i] = raw.readInt8 (o); break;
      case DTYPE.UINT16: out[i] = raw.readUInt16LE (o); break;
      case DTYPE.INT16: out[i] = raw.readInt16LE (o); break;
      case DTYPE.INT32: out[i] = raw.readInt32LE (o); break;
      case DTYPE.UINT32: out[i] = raw.readUInt32LE (o); break;
      case DTYPE.INT64: out[i] = Number (raw.readBigInt64LE (o)); break;
      case DTYPE.UINT64: out[i] = Number (raw.readBigUInt64LE (o)); break;
    }
  }
  return out;
}

// Decodes TensorProto bytes to { name, dims, dataType, values, hasRawData }
// with the values as a Float64Array whatever the stored type (comparison
// needs numbers, not storage).
export function decodeTensor (buf) {
  const r = new Reader (buf);
  const dims = [];
  let dataType = 0;
  let name = '';
  let raw = null;
  const typed = []; // float_data, int32_data, int64_data, double_data, uint64_data
  while (r.pos < buf.length) {
    const key = Number (r.varint ());
    const field = key >>> 3;
    const wireType = key & 7;
    switch (field) {
      case 1: readRepeated (r, wireType, 8, readVarintNumber, dims); break;
      case 2: dataType = Number (r.varint ()); break;
      case 4: readRepeated (r, wireType, 4, readFloat32, typed); break;
      case 5: case 7: case 11: readRepeated (r, wireType, 8, readVarintNumber, typed); break;
      case 8: name = new TextDecoder ().decode (r.bytes (Number (r.varint ()))); break;
      case 9: raw = Buffer.from (r.bytes (Number (r.varint ()))); break;
      case 10: readRepeated (r, wireType, 8, readFloat64, typed); break;
      case 13: throw new Error ('external data is not supported here');
      default: r.skip (wireType);
    }
  }
  if (dims.some ((d) => d < 0))
    throw new Error (`negative dim in ${dims.join ('x')}`);
  const numel = dims.reduce ((a, d) => a * d, 1);
  let values;
  if (raw !== null) {
    values = rawToNumbers (raw, dataType, numel);
  } else {
    if (typed.length !== numel)
      throw new Error (`typed data has ${typed.length} values, dims need ${numel}`);
    // int32_data carries float16 as its bit pattern.
    values = Float64Array.from (dataType === DTYPE.FLOAT16 ? typed.map (halfToFloat) : typed);
  }
  return { name, dims, dataType, values, hasRawData: raw !== null };
}
