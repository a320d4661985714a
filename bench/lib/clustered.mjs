// Clustered synthetic unit vectors, shaped like bench_ann.cpp's (the `ann` bench): `centres`
// random unit centres; a vector is its centre plus 0.03 x N(0, 1) per component, normalized
// (cosine to its centre ~0.83 at 512-d; like real sentence embeddings, the data has structure
// for a graph index to use). Vector i is a pure function of (seed, i), so a page and Node draw
// the same vectors without passing 2 GB between them. Queries are fresh draws (negative i).
// Plain JS: runs in Node and in browsers.
import { normalize, rng as mulberry32 } from '../../tests/js/toy-vector.mjs';

/** Normals two at a time from Box-Muller (the toy embedder's PRNG, Mulberry32, underneath). */
function rng(seed) {
  const { next } = mulberry32(seed);
  let spare = NaN;
  const gauss = () => {
    if (spare === spare) {
      const x = spare;
      spare = NaN;
      return x;
    }
    const m = Math.sqrt(-2 * Math.log(Math.max(next(), 1e-12))), a = 2 * Math.PI * next();
    spare = m * Math.sin(a);
    return m * Math.cos(a);
  };
  return { next, gauss };
}

export function clusteredVectors({ dim = 512, centres = 1000, seed = 42, noise = 0.03 } = {}) {
  const r = rng(seed);
  const c = new Float32Array(centres * dim);
  for (let k = 0; k < centres; k++) normalize(c.subarray(k * dim, (k + 1) * dim).map(() => r.gauss())).forEach((x, j) => (c[k * dim + j] = x));
  const draw = (key, out = new Float32Array(dim)) => {
    const g = rng(Math.imul(seed, 2654435761) ^ key);
    const k = Math.floor(g.next() * centres);
    for (let j = 0; j < dim; j++) out[j] = c[k * dim + j] + noise * g.gauss();
    return normalize(out);
  };
  return {
    dim,
    /** The i-th stored vector (i >= 0). */
    vector: (i, out) => draw(i + 1, out),
    /** The q-th query: a fresh draw from the same clusters. */
    query: (q, out) => draw(-(q + 1), out),
  };
}
