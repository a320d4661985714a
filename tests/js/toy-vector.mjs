// A deterministic bag-of-words "embedding" for tests and benchmarks that must not depend on a
// model: each lower-cased word maps to a seeded random unit direction; a text is their sum, so
// paraphrases that share most words get a high cosine. Plain JS: runs in Node, browsers, workerd.

/** Mulberry32: a small seeded PRNG, with Box-Muller normals. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gauss = () => {
    const u = Math.max(next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  };
  return { next, gauss };
}

export function normalize(v) {
  let s = 0;
  for (const x of v) s += x * x;
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < v.length; i++) v[i] *= inv;
  return v;
}

export function randomUnit(dim, r = rng(1)) {
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = r.gauss();
  return normalize(v);
}

const wordVectors = new Map();

export function toyVector(text, dim = 64) {
  const out = new Float32Array(dim);
  for (const w of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? ['∅']) {
    const key = `${dim}:${w}`;
    let v = wordVectors.get(key);
    if (!v) {
      let h = 2166136261;
      for (const ch of w) h = Math.imul(h ^ ch.codePointAt(0), 16777619);
      v = randomUnit(dim, rng(h));
      wordVectors.set(key, v);
    }
    for (let i = 0; i < dim; i++) out[i] += v[i];
  }
  return out;
}

export function toyEmbedder(dim = 64) {
  return async (texts) => texts.map((t) => toyVector(t, dim));
}
