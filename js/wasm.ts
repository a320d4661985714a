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

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';
let shared: Promise<SemcacheCoreModule> | undefined;
let defaultBinary: (() => Promise<Uint8Array>) | undefined;

/** Set by the Node entry (node.ts) so that this module has no Node imports for bundlers to trip on. */
export function setDefaultWasmBinary(load: () => Promise<Uint8Array>): void {
  defaultBinary = load;
}

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
    // The glue resolves the .wasm URL against import.meta.url, which workerd leaves undefined.
    moduleOptions.locateFile ??= (p) => p;
    moduleOptions.instantiateWasm = (imports, done) => {
      WebAssembly.instantiate(mod, imports).then((instance) => done(instance, mod));
      return {};
    };
  } else if (options.wasmBinary) {
    moduleOptions.wasmBinary = options.wasmBinary;
  } else if (defaultBinary) {
    moduleOptions.wasmBinary = await defaultBinary();
  } else if (isNode) {
    throw new Error("in Node, import 'semcache' (its node entry reads the .wasm) or pass wasm.wasmBinary");
  }
  return factory(moduleOptions);
}
