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

/**
 * Resolves after the events already queued have run: a macrotask boundary without setTimeout's
 * 4 ms clamp, so that a message or abort that arrived meanwhile is handled first. setImmediate
 * where there is one (Node), else a MessageChannel round trip (made on first use: a port with a
 * listener would keep Node's event loop alive), else setTimeout.
 */
export const nextTurn: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise((r) => setImmediate(r))
    : typeof MessageChannel === 'function'
      ? (() => {
          let ch: MessageChannel | undefined;
          const waiting: (() => void)[] = [];
          return () =>
            new Promise<void>((r) => {
              if (!ch) {
                ch = new MessageChannel();
                ch.port1.onmessage = () => waiting.shift()?.();
              }
              waiting.push(r);
              ch.port2.postMessage(0);
            });
        })()
      : () => new Promise((r) => setTimeout(r, 0));
