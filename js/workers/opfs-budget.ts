// Living within the browser's storage. The origin's quota (navigator.storage.estimate()) follows
// the device's free space, and under pressure a browser evicts whole origins that are not
// persistent. The OPFS cache therefore (1) asks for persistence (navigator.storage.persist(), from
// the page: workers do not have it), and (2) keeps its database under a byte budget, a share of the
// quota re-read as it changes: past the budget it evicts entries by the cache's eviction policy
// down to 90% of it and hands the freed pages back to the origin (incremental vacuum), so a write
// finds room instead of hitting the quota, and a shrinking quota shrinks the cache.
import { SemcacheError } from '../errors.js';

/** After eviction the database is brought down to this share of the budget. */
const TARGET = 0.9;
/** The quota is re-read at most this often on the write path (stats() always re-reads it). */
const ESTIMATE_EVERY_MS = 5_000;

export interface BudgetHost {
  /** The database's pages: size, count, and how many are free. */
  pages(): { pageSize: number; count: number; free: number };
  /** Gives free pages back to the file system (the file shrinks). */
  releaseFreePages(): void;
  /** Bytes of the index snapshot when it lives outside the database (0 when inside). */
  snapshotBytes?(): number;
  entries(): number;
  /** Evicts up to n entries by the cache's policy; resolves how many went. */
  evict(n: number): Promise<number>;
  /** Rewrites the index snapshot: until then it still holds the evicted entries' vectors. */
  flush(): Promise<void>;
}

export interface StorageInfo {
  usage: number;
  quota: number;
  budget: number;
  databaseBytes: number;
  persisted: boolean;
  budgetEvictions: number;
}

/** What the budget reads of navigator.storage (a StorageManager). */
export type StorageEstimator = Pick<StorageManager, 'estimate'> & Partial<Pick<StorageManager, 'persisted'>>;

export class StorageBudget {
  private evictions = 0;
  private estimate?: { usage: number; quota: number; at: number };
  private running?: Promise<void>;
  private again = false;

  constructor(
    private readonly share: number,
    private readonly host: BudgetHost,
    /** Default: this global's navigator.storage (a worker's and a page's are the origin's). */
    private readonly storage: StorageEstimator | undefined = navigatorStorage(),
  ) {}

  /** The budget in bytes: share x quota (Infinity where the browser tells no quota). */
  get budget(): number {
    return this.estimate?.quota ? Math.floor(this.share * this.estimate.quota) : Infinity;
  }

  /** After a write: evicts when the database is over budget. One check at a time; a write that
   * lands during a check makes it run once more. Failures are the next write's to meet. */
  afterWrite(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.enforce().catch(() => {});
      } while (this.again);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  /** What stats() reports; the quota re-read now (a failing estimate() leaves the last one known). */
  async info(): Promise<StorageInfo> {
    await this.refresh(true).catch(() => {});
    const p = this.host.pages();
    const persisted = (await this.storage?.persisted?.().catch(() => false)) ?? false;
    return {
      usage: this.estimate?.usage ?? 0,
      quota: this.estimate?.quota ?? 0,
      budget: Number.isFinite(this.budget) ? this.budget : 0,
      databaseBytes: p.count * p.pageSize + this.snapshotBytes(),
      persisted,
      budgetEvictions: this.evictions,
    };
  }

  private async enforce() {
    await this.refresh(false);
    const budget = this.budget;
    if (!Number.isFinite(budget)) return;
    for (let round = 0; round < 4; round++) {
      const p = this.host.pages();
      const used = (p.count - p.free) * p.pageSize + this.snapshotBytes();
      if (used <= budget) break;
      const n = this.host.entries();
      if (!n) break;
      // Bytes are near proportional to entries (rows, vectors, the snapshot's share of each).
      const count = Math.max(1, Math.ceil((n * (used - TARGET * budget)) / used));
      const evicted = await this.host.evict(Math.min(n, count));
      this.evictions += evicted;
      if (!evicted) break;
      // Measured again only once the snapshot lost them too: else the next round would see the
      // snapshot's old size and evict far more than needed.
      await this.host.flush();
    }
    const p = this.host.pages();
    if (p.count * p.pageSize + this.snapshotBytes() > budget && p.free) this.host.releaseFreePages();
  }

  private snapshotBytes(): number {
    return this.host.snapshotBytes?.() ?? 0;
  }

  private async refresh(force: boolean) {
    const now = Date.now();
    if (!force && this.estimate && now - this.estimate.at < ESTIMATE_EVERY_MS) return;
    const s = this.storage;
    if (!s?.estimate) return;
    try {
      const e = await s.estimate();
      this.estimate = { usage: e.usage ?? 0, quota: e.quota ?? 0, at: now };
    } catch (e) {
      throw new SemcacheError('STORE_FAILED', `navigator.storage.estimate() failed: ${(e as Error)?.message ?? e}`, { cause: e });
    }
  }
}

function navigatorStorage(): StorageManager | undefined {
  return (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage;
}
