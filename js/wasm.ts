import type { SemcacheCoreModule, SemcacheCoreOptions } from './wasm/semcache_core.mjs';
import { SemcacheError } from './errors.js';

export type { SemcacheCoreModule } from './wasm/semcache_core.mjs';

export interface LoadCoreOptions {
  /** The .wasm bytes. Default in Node: read from the package's dist/wasm. */
  wasmBinary?: ArrayBuffer | Uint8Array;
  /** A compiled module (workerd: `import wasm from './semcache_core.wasm'`). No bytes are compiled. */
  wasmModule?: WebAssembly.Module;
  /** The Emscripten factory, when a bundler must see a static import (edge workers). */
  factory?: (options: SemcacheCoreOptions) => Promise<SemcacheCoreModule>;
  /** Where the browser fetches the .wasm from. Default: next to the glue (import.meta.url). */
  locateFile?: (path: string, prefix: string) => string;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
let shared: Promise<SemcacheCoreModule> | undefined;

/**
 * Loads the wasm core. With no options the module is loaded once and shared. In Node the bytes
 * are read from disk and handed over (the Emscripten 3.1.6 glue would try fetch() on a path).
 */
export function loadCore(options: LoadCoreOptions = {}): Promise<SemcacheCoreModule> {
  const isDefault = !options.wasmBinary && !options.wasmModule && !options.factory && !options.locateFile;
  if (isDefault && shared) return shared;
  const p = instantiate(options).catch((e: unknown) => {
    if (isDefault) shared = undefined;
    throw new SemcacheError('WASM_LOAD_FAILED', `could not load the semcache wasm core: ${(e as Error)?.message ?? e}`, {
      cause: e,
    });
  });
  if (isDefault) shared = p;
  return p;
}

async function instantiate(options: LoadCoreOptions): Promise<SemcacheCoreModule> {
  const factory = options.factory ?? (await import('./wasm/semcache_core.mjs')).default;
  const moduleOptions: SemcacheCoreOptions = {};
  if (options.locateFile) moduleOptions.locateFile = options.locateFile;
  if (options.wasmModule) {
    const mod = options.wasmModule;
    moduleOptions.instantiateWasm = (imports, done) => {
      WebAssembly.instantiate(mod, imports).then((instance) => done(instance, mod));
      return {};
    };
  } else if (options.wasmBinary) {
    moduleOptions.wasmBinary = options.wasmBinary;
  } else if (isNode) {
    const fs = await import('node:fs/promises');
    moduleOptions.wasmBinary = await fs.readFile(new URL('./wasm/semcache_core.wasm', import.meta.url));
  }
  return factory(moduleOptions);
}
