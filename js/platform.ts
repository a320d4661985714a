// What the default entry needs from the platform but must not import itself (so that bundlers
// for browsers and edge workers never see a `node:` module). The Node entry (node.ts) fills it.
export interface Platform {
  /** Reads a file: URL (Node). */
  readFile?: (url: URL) => Promise<Uint8Array>;
  /** A directory for cached model files (Node); undefined = no disk cache. */
  cacheDir?: string;
  readCached?: (key: string) => Promise<Uint8Array | undefined>;
  writeCached?: (key: string, bytes: Uint8Array) => Promise<void>;
}

export const platform: Platform = {};
