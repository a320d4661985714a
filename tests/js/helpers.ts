// Shared test helpers: the wasm module, seeded vectors and a deterministic toy embedder.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import createSemcacheCore from '../../dist/wasm/semcache_core.mjs';
import type { SemcacheCoreModule } from '../../dist/wasm/semcache_core.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function loadModule(): Promise<SemcacheCoreModule> {
  return createSemcacheCore({ wasmBinary: fs.readFileSync(path.join(root, 'dist/wasm/semcache_core.wasm')) });
}

/** Mulberry32: a small seeded PRNG. */
export function rng(seed: number) {
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

export function normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < v.length; i++) v[i]! *= inv;
  return v;
}

export function randomUnit(dim: number, r = rng(1)): Float32Array {
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = r.gauss();
  return normalize(v);
}

export function near(base: Float32Array, noise: number, r = rng(2)): Float32Array {
  const v = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) v[i] = base[i]! + noise * r.gauss();
  return normalize(v);
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

const wordVectors = new Map<string, Float32Array>();

/**
 * A deterministic bag-of-words vector: each lower-cased word maps to a seeded random direction;
 * a text is the sum. Paraphrases sharing most words get a high cosine.
 */
export function toyVector(text: string, dim = 64): Float32Array {
  const out = new Float32Array(dim);
  for (const w of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? ['∅']) {
    const key = `${dim}:${w}`;
    let v = wordVectors.get(key);
    if (!v) {
      let h = 2166136261;
      for (const ch of w) h = Math.imul(h ^ ch.codePointAt(0)!, 16777619);
      v = randomUnit(dim, rng(h));
      wordVectors.set(key, v);
    }
    for (let i = 0; i < dim; i++) out[i]! += v[i]!;
  }
  return out;
}

export function toyEmbedder(dim = 64) {
  return async (texts: string[]) => texts.map((t) => toyVector(t, dim));
}
