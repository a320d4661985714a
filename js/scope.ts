import { SemcacheError } from './errors.js';

/**
 * What makes two identical prompts different questions: the model, the parameters that change
 * the answer (system prompt, temperature bucket, tools…), and the tenant/namespace. Two scopes
 * never see each other's entries.
 */
export interface Scope {
  model?: string;
  params?: Record<string, unknown>;
  tenant?: string;
  namespace?: string;
}

export type ScopeInput = Scope | string | undefined;

/** The canonical key: JSON with sorted keys, so {a,b} and {b,a} are one scope. */
export function scopeKey(scope: ScopeInput): string {
  if (scope === undefined || scope === null) return '{}';
  if (typeof scope === 'string') return JSON.stringify({ namespace: scope });
  if (typeof scope !== 'object' || Array.isArray(scope)) {
    throw new SemcacheError('INVALID_SCOPE', `scope must be an object or a string, got ${typeof scope}`);
  }
  try {
    return stableStringify(scope);
  } catch (e) {
    throw new SemcacheError('INVALID_SCOPE', `scope is not serializable: ${(e as Error).message}`);
  }
}

function stableStringify(v: unknown, depth = 0): string {
  if (depth > 32) throw new Error('nested more than 32 levels');
  if (v === undefined) return 'null';
  if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`non-finite number ${v}`);
  if (typeof v === 'bigint' || typeof v === 'function' || typeof v === 'symbol') throw new Error(`a ${typeof v}`);
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => stableStringify(x, depth + 1)).join(',')}]`;
  const keys = Object.keys(v as object)
    .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k], depth + 1)}`).join(',')}}`;
}
