// Loads the Embind module for the GPT-2 tests (Node: the wasm bytes are handed over directly).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const sharedDir = process.env.SEMCACHE_SHARED_DIR ?? path.resolve(root, '../shared');

export async function loadCore() {
  const { default: createSemcacheCore } = await import(path.join(root, 'dist/wasm/semcache_core.mjs'));
  return createSemcacheCore({ wasmBinary: fs.readFileSync(path.join(root, 'dist/wasm/semcache_core.wasm')) });
}

// Copies bytes into wasm memory, loads, frees the copy.
export function loadModel(core, bytes, configJson, format) {
  const ptr = core._malloc(bytes.length);
  try {
    core.HEAPU8.set(bytes, ptr);
    return core.Gpt2Model.load(ptr, bytes.length, configJson, format);
  } finally {
    core._free(ptr);
  }
}
