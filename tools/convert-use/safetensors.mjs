// The safetensors layout (8-byte little-endian header length, JSON header, raw little-endian
// data) for the encoder weights the fine-tuning recipe exchanges with the converter: F32 and F16
// tensors, read back as Float32Array. Python writes the same layout with a dozen lines of its own
// (tools/finetune-encoder/weights.py), so neither side needs the safetensors library.
import fs from 'node:fs';

const SIZES = { F32: 4, F16: 2 };

/** f32 -> IEEE half, round to nearest even (what numpy's/torch's .half() do). */
function toHalf(x) {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  let exp = ((u >>> 23) & 0xff) - 127 + 15;
  let mant = u & 0x7fffff;
  if (((u >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);  // inf / nan
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (exp << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}

function fromHalf(h) {
  const sign = h & 0x8000 ? -1 : 1, exp = (h >>> 10) & 0x1f, mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Reads a file: { tensors: Map(name -> {dtype, shape, data: Float32Array}), metadata }. */
export function readSafetensors(bytes) {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  if (buf.length < 8) throw new Error('safetensors: file shorter than its header length');
  const n = Number(buf.readBigUInt64LE(0));
  if (8 + n > buf.length) throw new Error(`safetensors: header of ${n} bytes runs past the file (${buf.length})`);
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const base = 8 + n;
  const tensors = new Map();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const size = SIZES[t.dtype];
    if (!size) throw new Error(`safetensors: tensor ${name} has dtype ${t.dtype} (F32 and F16 only)`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    const [lo, hi] = t.data_offsets;
    if (hi - lo !== count * size || base + hi > buf.length) throw new Error(`safetensors: tensor ${name}: offsets [${lo}, ${hi}] do not hold ${count} ${t.dtype}`);
    const raw = buf.subarray(base + lo, base + hi);
    const data = new Float32Array(count);
    if (t.dtype === 'F32') for (let i = 0; i < count; i++) data[i] = raw.readFloatLE(4 * i);
    else for (let i = 0; i < count; i++) data[i] = fromHalf(raw.readUInt16LE(2 * i));
    tensors.set(name, { dtype: t.dtype, shape: t.shape, data });
  }
  return { tensors, metadata: header.__metadata__ ?? {} };
}

/** Writes tensors [{name, shape, data: Float32Array}] as dtype ('F32' | 'F16'), names sorted. */
export function writeSafetensors(file, tensors, { dtype = 'F32', metadata = {} } = {}) {
  const size = SIZES[dtype];
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : 1));
  const header = { __metadata__: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, String(v)])) };
  let off = 0;
  for (const t of sorted) {
    const bytes = t.data.length * size;
    header[t.name] = { dtype, shape: t.shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);  // 8-byte aligned data
  const out = Buffer.alloc(8 + json.length + off);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  let p = 8 + json.length;
  for (const t of sorted) {
    if (dtype === 'F32') for (const x of t.data) (out.writeFloatLE(x, p), (p += 4));
    else for (const x of t.data) (out.writeUInt16LE(toHalf(x), p), (p += 2));
  }
  fs.writeFileSync(file, out);
  return out.length;
}
