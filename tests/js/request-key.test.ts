// The request -> key function (js/llm/request-key.ts) shared by the server, the edge worker and
// the SDK adapters: the rules one by one, then a seeded fuzz over random combinations of the
// fields of chat completions, completions and responses requests: two requests share a key
// exactly when they are the same request once the documented equivalences are applied (fields
// known not to change the answer dropped, defaults dropped, temperature bucketed, text parts
// joined) - so requests that differ in an answer-changing field never share an entry.
import { describe, expect, it } from 'vitest';
import { FIELD_RULES, requestKey, temperatureBucket, type RequestKind } from '../../dist/llm/request-key.js';
import { canonicalJson } from '../../dist/llm/canonical.js';
import { scopeKey } from '../../dist/scope.js';

const user = (content: unknown) => ({ role: 'user', content });
const chat = (extra: Record<string, unknown> = {}, text = 'How do I reset my password?') => ({ model: 'm', messages: [user(text)], ...extra });
const key = async (kind: RequestKind, body: unknown, o = {}) => {
  const k = await requestKey(kind, body, o);
  return 'bypass' in k ? `bypass: ${k.bypass}` : `${k.text}\u0000${scopeKey(k.scope)}`;
};

describe('what is in the key', () => {
  it('keeps every answer-changing chat field (the fields of issue 15 among them)', async () => {
    const base = await key('chat', chat());
    for (const extra of [
      { max_completion_tokens: 3 },
      { max_tokens: 3 },
      { frequency_penalty: 1 },
      { presence_penalty: 1 },
      { seed: 7 },
      { stop: ['\n'] },
      { top_p: 0.5 },
      { reasoning_effort: 'high' },
      { response_format: { type: 'json_object' } },
      { tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] },
      { logit_bias: { 50256: -100 } },
      { model: 'other' },
      { temperature: 1.5 },
    ]) {
      expect(await key('chat', chat(extra)), JSON.stringify(extra)).not.toBe(base);
    }
    expect(await key('chat', chat({ max_completion_tokens: 3 }))).not.toBe(await key('chat', chat({ max_completion_tokens: 200 })));
    expect(await key('chat', chat({ max_completion_tokens: 3 }))).not.toBe(await key('chat', chat({ max_tokens: 3 })));
  });

  it('bypasses what it cannot replay, and any field it does not know', async () => {
    for (const extra of [{ logprobs: true }, { top_logprobs: 2 }, { n: 2 }, { tool_choice: 'required' }, { audio: { voice: 'x' } }, { modalities: ['text', 'audio'] }, { web_search_options: {} }, { temperture: 0 }, { some_new_field: 1 }]) {
      expect(await key('chat', chat(extra)), JSON.stringify(extra)).toMatch(/^bypass/);
    }
    expect(await key('chat', chat({ some_new_field: 1 }))).toBe('bypass: unknown field `some_new_field`');
    expect(await key('completions', { model: 'm', prompt: 'x', logprobs: 2 })).toMatch(/^bypass/);
    expect(await key('responses', { model: 'm', input: 'x', store: false })).toMatch(/^bypass/);
    expect(await key('responses', { model: 'm', input: 'x', include: ['message.output_text.logprobs'] })).toMatch(/^bypass/);
  });

  it('does not split the cache on fields that do not change the answer, nor on defaults', async () => {
    const base = await key('chat', chat());
    for (const extra of [{ stream: true }, { stream_options: { include_usage: true } }, { user: 'u1' }, { metadata: { a: '1' } }, { store: true }, { n: 1 }, { logprobs: false }, { seed: null }]) {
      expect(await key('chat', chat(extra)), JSON.stringify(extra)).toBe(base);
    }
    expect(await key('chat', chat({}, 'x'))).toBe(await key('chat', { model: 'm', messages: [user([{ type: 'text', text: 'x' }])] }));
  });

  it('reads the question from the last turn only, and everything before it into the scope', async () => {
    const history = [{ role: 'system', content: 'be brief' }, user('hi'), { role: 'assistant', content: 'hello' }];
    const a = await requestKey('chat', { model: 'm', messages: [...history, user('What is 2+2?')] });
    expect(a).toMatchObject({ text: 'What is 2+2?' });
    expect(await key('chat', { model: 'm', messages: [...history, user('What is 2+2?')] })).not.toBe(await key('chat', { model: 'm', messages: [user('What is 2+2?')] }));
    // a conversation that does not end with the user's question is not a question to look up
    expect(await key('chat', { model: 'm', messages: [user('q'), { role: 'assistant', content: 'partial' }] })).toMatch(/^bypass: the last of `messages` is not a user turn/);
    expect(await key('chat', { model: 'm', messages: [user([{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'x' } }])] })).toMatch(/^bypass: .*other than text/);
  });

  it('answers a one-prompt array like the prompt, and passes a batch by', async () => {
    expect(await key('completions', { model: 'm', prompt: ['once upon'] })).toBe(await key('completions', { model: 'm', prompt: 'once upon' }));
    expect(await key('completions', { model: 'm', prompt: ['a', 'b'] })).toBe('bypass: a batch of prompts');
    expect(await key('completions', { model: 'm', prompt: [1, 2, 3] })).toMatch(/^bypass/);
  });

  it('reads Responses API bodies: input as a string or items, instructions, previous_response_id, text.format', async () => {
    const base = await key('responses', { model: 'm', input: 'Tell me a joke' });
    expect(await key('responses', { model: 'm', input: [user('Tell me a joke')] })).toBe(base);
    expect(await key('responses', { model: 'm', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Tell me a joke' }] }] })).toBe(base);
    for (const extra of [{ instructions: 'in French' }, { previous_response_id: 'resp_1' }, { text: { format: { type: 'json_schema', name: 'j', schema: {} } } }, { reasoning: { effort: 'high' } }, { max_output_tokens: 5 }, { tools: [{ type: 'web_search' }] }]) {
      expect(await key('responses', { model: 'm', input: 'Tell me a joke', ...extra }), JSON.stringify(extra)).not.toBe(base);
    }
    expect(await key('responses', { model: 'm', input: [user('q'), { type: 'function_call_output', call_id: 'c', output: '{}' }] })).toMatch(/^bypass/);
    expect(await key('responses', { model: 'm', input: 'x', tool_choice: 'required' })).toMatch(/^bypass/);
  });

  it('keeps tenants and credentials apart', async () => {
    expect(await key('chat', chat(), { tenant: 'a' })).not.toBe(await key('chat', chat(), { tenant: 'b' }));
    expect(await key('chat', chat(), { credential: 'h1' })).not.toBe(await key('chat', chat(), { credential: 'h2' }));
    expect(await key('chat', chat(), { credential: 'h1' })).not.toBe(await key('chat', chat()));
  });

  it('never throws on hostile input', async () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    for (const body of [null, [], 'x', 5, { messages: 'x' }, { messages: [null] }, { model: 5, messages: [user('x')] }, { messages: [user('x')], temperature: 'hot' }, { messages: [user('x')], tools: cyclic }]) {
      await expect(requestKey('chat', body)).resolves.toHaveProperty('bypass');
    }
  });

  it('names the fields known not to change the answer (a change here is a decision: docs/security.md)', () => {
    const ignored = (kind: RequestKind) => Object.entries(FIELD_RULES[kind]).filter(([, r]) => r === 'ignore').map(([f]) => f).sort();
    const shared = ['prompt_cache_key', 'prompt_cache_retention', 'safety_identifier', 'stream', 'stream_options', 'user'];
    expect(ignored('chat')).toEqual([...shared, 'metadata', 'service_tier', 'store'].sort());
    expect(ignored('completions')).toEqual(shared);
    expect(ignored('responses')).toEqual([...shared, 'metadata', 'service_tier'].sort());
  });
});

// ---- the fuzz -------------------------------------------------------------------------------

function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
const TEXTS = ['How do I reset my password?', 'how do i reset my password', 'What is 2+2?', 'a\nb', 'How do I reset my password?', 'What is 2+2?', 'a\nb', ''];
const VALUES: unknown[] = [null, 0, 1, 2, 0.5, 'a', 'b', 'auto', 'none', 'required', true, false, [], ['x'], ['text'], ['text', 'audio'], { k: 1 }, { k: 2 }, [{ k: 1 }]];
const UNKNOWN = ['temperture', 'frobnicate', 'max_token'];
const HISTORY = [[], [{ role: 'system', content: 'be brief' }], [{ role: 'system', content: 'be verbose' }], [user('hi'), { role: 'assistant', content: 'hello' }]];

function lastTurn(rng: Rng, kind: 'chat' | 'responses') {
  const text = pick(rng, TEXTS);
  const r = rng();
  const partType = kind === 'chat' ? 'text' : 'input_text';
  const content = r < 0.5 ? text : r < 0.8 ? [{ type: partType, text }] : r < 0.9 ? text.split('\n').map((t) => ({ type: partType, text: t })) : [{ type: 'input_image', image_url: 'x' }];
  const turn: Record<string, unknown> = { role: rng() < 0.95 ? 'user' : 'assistant', content };
  if (kind === 'chat' && rng() < 0.15) turn.name = pick(rng, ['ann', 'bob']);
  if (kind === 'responses' && rng() < 0.3) turn.type = 'message';
  return turn;
}

function lookupField(rng: Rng, kind: RequestKind): unknown {
  if (kind === 'completions') {
    const r = rng();
    const t = pick(rng, TEXTS);
    return r < 0.6 ? t : r < 0.8 ? [t] : r < 0.9 ? [t, 'other'] : [1, 2];
  }
  if (kind === 'responses' && rng() < 0.4) return pick(rng, TEXTS);
  return [...pick(rng, HISTORY), lastTurn(rng, kind)];
}

function randomBody(rng: Rng, kind: RequestKind): Record<string, unknown> {
  const b: Record<string, unknown> = {};
  if (rng() < 0.9) b.model = pick(rng, ['m1', 'm2']);
  if (rng() < 0.5) b.temperature = pick(rng, [null, 0, 0.3, 0.35, 0.7, 0.8, 1.5]);
  b[{ chat: 'messages', completions: 'prompt', responses: 'input' }[kind]] = lookupField(rng, kind);
  const fields = Object.keys(FIELD_RULES[kind]);
  for (let i = 0, n = Math.floor(rng() * 4); i < n; i++) {
    const f = pick(rng, fields);
    const rule = FIELD_RULES[kind][f];
    // mostly values that do not bypass, so that most pairs get compared
    const fine = typeof rule === 'function' ? VALUES.filter((v) => typeof rule(v) === 'string') : VALUES;
    b[f] = pick(rng, fine.length && rng() < 0.8 ? fine : VALUES);
  }
  if (rng() < 0.03) b[pick(rng, UNKNOWN)] = 1;
  return b;
}

/** A neighbour of a body: one to three changes, so that pairs often share most of their fields. */
function mutate(rng: Rng, kind: RequestKind, body: Record<string, unknown>): Record<string, unknown> {
  const b = structuredClone(body);
  const fields = [...Object.keys(FIELD_RULES[kind]), 'model', 'temperature'];
  const ignored = Object.entries(FIELD_RULES[kind]).filter(([, r]) => r === 'ignore').map(([f]) => f);
  for (let i = 0, n = 1 + Math.floor(rng() * 3); i < n; i++) {
    const r = rng();
    if (r < 0.25) b[pick(rng, ignored)] = pick(rng, VALUES);  // changes nothing that matters
    else if (r < 0.35) b.temperature = pick(rng, [0.3, 0.35, 0.7, 0.8]);  // maybe the same bucket
    else if (r < 0.5) {
      const f = pick(rng, fields);
      const rule = FIELD_RULES[kind][f];
      const fine = typeof rule === 'function' ? VALUES.filter((v) => typeof rule(v) === 'string') : [...VALUES, 'm1', 'm2', 0.3, 0.35, 0.7];
      b[f] = pick(rng, fine.length && rng() < 0.8 ? fine : VALUES);
    }
    else if (r < 0.65) delete b[pick(rng, Object.keys(b))];
    else if (r < 0.85) b[{ chat: 'messages', completions: 'prompt', responses: 'input' }[kind]] = lookupField(rng, kind);
    else Object.assign(b, randomBody(rng, kind));
  }
  return b;
}

/**
 * The spec, written apart from the implementation: the request with the documented
 * equivalences applied, or null when it must bypass. Equal specs <=> equal keys.
 */
function spec(kind: RequestKind, body: Record<string, unknown>): string | null {
  const out: Record<string, unknown> = {};
  const q_: Record<string, unknown> = {};  // the question and what came before it
  const lookup = { chat: 'messages', completions: 'prompt', responses: 'input' }[kind];
  for (const [f, v] of Object.entries(body)) {
    if (v === null || v === undefined || f === lookup) continue;
    if (f === 'model') {
      if (typeof v !== 'string') return null;
      continue;
    }
    if (f === 'temperature') {
      if (typeof v !== 'number') return null;
      continue;
    }
    const rule = FIELD_RULES[kind][f];
    if (rule === undefined) return null;  // an unknown field bypasses
    if (rule === 'ignore') continue;
    const use = typeof rule === 'function' ? rule(v) : rule;
    if (typeof use === 'object') return null;
    if (use !== 'default') out[f] = v;
  }
  out.model = body.model ?? '';
  out.temperature = temperatureBucket((body.temperature ?? undefined) as number | undefined);
  const q = body[lookup];
  if (kind === 'completions') {
    const t = typeof q === 'string' ? q : Array.isArray(q) && q.length === 1 && typeof q[0] === 'string' ? q[0] : null;
    if (t === null || !t.trim()) return null;
    q_.text = t;
  } else if (kind === 'responses' && typeof q === 'string') {
    if (!q.trim()) return null;
    q_.text = q;
  } else {
    if (!Array.isArray(q) || !q.length) return null;
    const last = q.at(-1) as Record<string, unknown>;
    if (last.role !== 'user') return null;
    const parts = typeof last.content === 'string' ? [{ text: last.content, type: kind === 'chat' ? 'text' : 'input_text' }] : (last.content as { type: string; text?: string }[]);
    if (parts.some((p) => p.type !== (kind === 'chat' ? 'text' : 'input_text'))) return null;
    q_.text = parts.map((p) => p.text).join('\n');
    if (!(q_.text as string).trim()) return null;
    if (q.length > 1) q_.history = q.slice(0, -1);
    if (last.name !== undefined) q_.name = last.name;
  }
  return canonicalJson({ fields: out, question: q_ });
}

describe('fuzz: requests that differ in an answer-changing field never share an entry', () => {
  const CASES = 5000;  // per kind: 15,000 pairs; about half compared key by key, the rest bypass (checked too)
  for (const [kind, seed] of [['chat', 15], ['completions', 16], ['responses', 17]] as const) {
    it(`${kind}: ${CASES} seeded pairs`, async () => {
      const rng = mulberry32(seed);
      let shared = 0, distinct = 0, bypassed = 0;
      const seen = new Set<string>();
      for (let i = 0; i < CASES; i++) {
        const a = randomBody(rng, kind);
        const b = rng() < 0.8 ? mutate(rng, kind, a) : randomBody(rng, kind);
        const tenants = rng() < 0.05 ? ['t1', 't2'] : ['t1', 't1'];
        const [ka, kb] = [await requestKey(kind, a, { tenant: tenants[0] }), await requestKey(kind, b, { tenant: tenants[1] })];
        const [sa, sb] = [spec(kind, a), spec(kind, b)];
        expect('bypass' in ka, JSON.stringify(a)).toBe(sa === null);
        expect('bypass' in kb, JSON.stringify(b)).toBe(sb === null);
        if ('bypass' in ka || 'bypass' in kb) {
          bypassed++;
          continue;
        }
        for (const f of Object.keys(a)) seen.add(f);
        const sameKey = ka.text === kb.text && scopeKey(ka.scope) === scopeKey(kb.scope);
        const sameSpec = sa === sb && tenants[0] === tenants[1];
        if (sameKey !== sameSpec) expect.fail(`${sameKey ? 'shared' : 'split'}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
        if (sameKey) shared++;
        else distinct++;
      }
      // every kind of outcome occurred often enough to mean something
      console.log(`request-key fuzz ${kind}: ${shared} pairs shared a key, ${distinct} did not, ${bypassed} bypassed`);
      expect(shared).toBeGreaterThan(300);
      expect(distinct).toBeGreaterThan(1200);
      expect(bypassed).toBeGreaterThan(300);
      // every non-bypassing field took part in some cached request
      const cachedFields = Object.entries(FIELD_RULES[kind]).filter(([, r]) => typeof r === 'string').map(([f]) => f);
      expect(cachedFields.filter((f) => !seen.has(f))).toEqual([]);
    });
  }
});
