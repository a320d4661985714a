// The OPFS store's index snapshots as plain files (SqliteStoreOptions.snapshotFiles), in a
// directory of their own beside the SQLite pool's: `.semcache-<name>-snapshots/<gen>.snap`. A
// dedicated worker writes them through synchronous access handles: an append is a copy into the
// file, synced every few MiB and at the end. (In the database, each 256 KiB slice of a 1M-entry
// snapshot was a transaction and a WAL checkpoint: two syncs, which lookups waited behind.)
/// <reference lib="webworker" />
import { SemcacheError } from '../errors.js';
import type { SnapshotFileWriter, SnapshotFiles } from '../stores/sqlite-snapshot.js';

/** Read in pieces of this size: what the core takes per push (js/snapshots.ts). */
const READ_BYTES = 256 << 10;
/**
 * Synced after every this many bytes written. A sync blocks the worker (the handle's flush() is
 * synchronous) for as long as the disk takes to take what is dirty: one sync at the end of a
 * 1M-entry snapshot (~750 MB) took 543 ms in Chromium here, which a lookup waited behind.
 */
const SYNC_BYTES = 4 << 20;
const NAME = /^(\d+)\.snap$/;

type SyncHandle = FileSystemSyncAccessHandle;

export class OpfsSnapshotFiles implements SnapshotFiles {
  /** Bytes of every file here, as last written or measured. */
  private sizes = new Map<number, number>();

  private constructor(private readonly dir: FileSystemDirectoryHandle) {}

  /** The directory for cache `dirName` (created if missing), with the sizes of what it holds. */
  static async open(dirName: string): Promise<OpfsSnapshotFiles> {
    try {
      const root = await navigator.storage.getDirectory();
      const files = new OpfsSnapshotFiles(await root.getDirectoryHandle(dirName, { create: true }));
      for await (const [name, h] of files.dir as unknown as AsyncIterable<[string, FileSystemHandle]>) {
        const m = NAME.exec(name);
        if (m && h.kind === 'file') files.sizes.set(Number(m[1]), (await (h as FileSystemFileHandle).getFile()).size);
      }
      return files;
    } catch (e) {
      throw new SemcacheError('STORE_FAILED', `cannot open the snapshot directory ${dirName} on OPFS: ${(e as Error)?.message ?? e}`, { cause: e });
    }
  }

  bytes(): number {
    let n = 0;
    for (const b of this.sizes.values()) n += b;
    return n;
  }

  maxGen(): number {
    return Math.max(0, ...this.sizes.keys());
  }

  async create(gen: number): Promise<SnapshotFileWriter> {
    const h = await (await this.dir.getFileHandle(`${gen}.snap`, { create: true })).createSyncAccessHandle();
    let at = 0;
    let dirty = 0;
    let open = true;
    const close = () => {
      if (open) (open = false), h.close();
    };
    try {
      h.truncate(0);
    } catch (e) {
      close();
      throw failed(e, 'create');
    }
    this.sizes.set(gen, 0);
    return {
      write: (chunk) => {
        try {
          for (let done = 0; done < chunk.length; ) {
            const n = h.write(chunk.subarray(done), { at: at + done });
            if (n <= 0) throw new Error(`wrote ${n} bytes`);
            done += n;
          }
        } catch (e) {
          throw failed(e, 'write');
        }
        at += chunk.length;
        this.sizes.set(gen, at);
        if ((dirty += chunk.length) >= SYNC_BYTES) {
          dirty = 0;
          try {
            h.flush();
          } catch (e) {
            throw failed(e, 'sync');
          }
        }
      },
      finish: async () => {
        try {
          h.flush();
        } catch (e) {
          throw failed(e, 'sync');
        } finally {
          close();
        }
      },
      abort: async () => {
        close();
        await this.remove(gen);
      },
    };
  }

  async read(gen: number, size: number, onChunk: (chunk: Uint8Array) => void): Promise<boolean> {
    let h: SyncHandle;
    try {
      h = await (await this.dir.getFileHandle(`${gen}.snap`)).createSyncAccessHandle();
    } catch (e) {
      if ((e as DOMException)?.name === 'NotFoundError') return false;
      throw failed(e, 'open');
    }
    try {
      if (h.getSize() !== size) return false;
      const buf = new Uint8Array(Math.min(READ_BYTES, Math.max(1, size)));
      for (let at = 0; at < size; ) {
        const n = h.read(buf.subarray(0, Math.min(buf.length, size - at)), { at });
        if (n <= 0) return false;
        onChunk(buf.subarray(0, n));  // the core copies it before the next read
        at += n;
      }
      return true;
    } finally {
      h.close();
    }
  }

  async keepOnly(keep: number | undefined): Promise<void> {
    // this worker owns the directory: every file in it was listed at open() or made by create()
    for (const gen of [...this.sizes.keys()]) if (gen !== keep) await this.remove(gen);
  }

  private async remove(gen: number) {
    try {
      await this.dir.removeEntry(`${gen}.snap`);
    } catch (e) {
      if ((e as DOMException)?.name !== 'NotFoundError') throw failed(e, 'remove');
    }
    this.sizes.delete(gen);
  }
}

/** A file system error as the store's: QUOTA_EXCEEDED when the origin is out of room. */
function failed(e: unknown, what: string): SemcacheError {
  const name = (e as DOMException)?.name;
  const msg = `snapshot file ${what} failed: ${(e as Error)?.message ?? e}`;
  return new SemcacheError(name === 'QuotaExceededError' ? 'QUOTA_EXCEEDED' : 'STORE_FAILED', msg, { cause: e });
}
