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

import { normalize, randomUnit, rng } from './toy-vector.mjs';

export { normalize, randomUnit, rng, toyEmbedder, toyVector } from './toy-vector.mjs';

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
