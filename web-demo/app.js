// The offline demo: every question goes through the semantic cache; a miss goes to GPT-2 in its
// own worker, streaming tokens. Models load with progress; nothing here blocks the page for
// long (ONNX Runtime runs proxied in its worker, GPT-2 in another).
import { SemanticCache, remoteCache } from '/dist/index.js';
import { OnnxEmbedder } from '/dist/embedders/onnx.js';
import { createModelPicker } from '/model-picker.js';

const $ = (id) => document.getElementById(id);
const state = { cache: null, gpt2: null, busy: false, points: [] };
window.demo = state;

// ---------- status pills ----------
function status(part, cls, note, progress) {
  const li = document.querySelector(`[data-part="${part}"]`);
  li.className = cls;
  if (note !== undefined) li.querySelector('.note').textContent = note;
  const bar = li.querySelector('progress');
  if (bar && progress !== undefined) bar.value = progress;
}
const entriesText = (n) => `${n} ${n === 1 ? 'entry' : 'entries'}`;
const mb = (n) => `${(n / 1048576).toFixed(1)} MB`;
function progressNote(part) {
  const files = new Map();
  return (p) => {
    files.set(p.url ?? p.file, p);
    let loaded = 0, total = 0;
    for (const f of files.values()) { loaded += f.loaded; total += f.total ?? f.loaded; }
    status(part, 'loading', `${mb(loaded)}${total ? ` / ${mb(total)}` : ''}`, total ? loaded / total : 0);
  };
}

// ---------- loading ----------
// Where the prompt is embedded: on this page (the default: the page keeps a copy of the cache's
// entries and decides a hit itself, with no round trip to the cache's worker; exact repeats are
// answered without embedding) or in the cache's worker (`?embed=worker`, kept to compare: a hit
// is one round trip to it, and the model never runs on this page's thread). `npm run bench --
// e2e` measures both (docs/benchmarks.md).
const embedIn = new URLSearchParams(location.search).get('embed') === 'worker' ? 'worker' : 'page';
const ORT = { ort: '/ort/ort.wasm.bundle.min.mjs', wasmPaths: '/ort/' };
// A few throwaway inferences: V8 first runs wasm with its baseline compiler and optimizes the
// hot functions as they run, so the first questions would otherwise pay for the slow code.
const WARMUP = 30;

async function loadEmbedderAndCache() {
  status('embedder', 'loading', 'loading…');
  status('cache', 'loading', 'opening…');
  ({ cache: state.cache, embedIn: state.embedIn } = await openCache());
  const s = await state.cache.stats();
  status('embedder', 'ready', `USE lite tuned for caching, ${s.dimensions}-d, ${state.embedIn === 'worker' ? "in the cache's worker" : 'on this page'}`);
  // the default setting: the model's calibrated evaluator (learned, at 2% false hits on QQP)
  state.rule = s.evaluator === 'learned' ? { key: 'score', name: 'p', t: s.evaluatorThreshold } : { key: 'similarity', name: 'cosine', t: s.threshold };
  $('threshold').textContent = `${s.evaluator} ${state.rule.name} ≥ ${state.rule.t.toFixed(2)}`;
  status('cache', 'ready', entriesText(s.entries));
}

/** On this page, not in ORT's proxy worker: one int8 inference is ~2-3 ms (well inside a frame),
 * and the extra worker hop would cost about as much again on every question. */
async function pageEmbedder() {
  const ort = await import(ORT.ort);
  const embedder = await OnnxEmbedder.load({ ort, wasmPaths: ORT.wasmPaths, onProgress: progressNote('embedder') });
  for (let i = 0; i < WARMUP; i++) await embedder.embed(['What is the fastest way to warm up an encoder?']);
  // for the console, and for the e2e bench's bare embedding (the same session as a question's)
  state.embedder = embedder;
  return embedder;
}

/** The cache lives in a worker with SQLite on OPFS when the browser has it; else in memory.
 * Served by `npm start`, the server's cache is its shared tier: a question this device has not
 * seen is asked there before GPT-2, and GPT-2's answers are written through (the server takes
 * writes from a page on its own machine; elsewhere it needs the admin token, and a refused write
 * only shows in stats). Served as static files, there is no shared tier. */
async function openCache() {
  const options = { maxEntries: 5000 };
  const served = await fetch('/healthz').then((r) => r.ok, () => false);
  if (served) options.next = remoteCache({ url: location.origin, writes: true, timeoutMs: 2000 });
  if (navigator.storage?.getDirectory) {
    const opfs = { ...options, storage: 'opfs', name: 'semcache-demo', sqliteUrl: '/sqlite/dist/index.mjs', workerUrl: '/workers/opfs-cache.js' };
    try {
      const where = embedIn === 'worker'
        ? { workerEmbedder: { ...ORT, warmup: WARMUP, onProgress: progressNote('embedder') } }
        : { embedder: await pageEmbedder() };
      return { cache: await SemanticCache.open({ ...opfs, ...where }), embedIn };
    } catch (e) {
      console.warn('OPFS cache unavailable, using memory:', e);
    }
  }
  return { cache: await SemanticCache.open({ ...options, embedder: await pageEmbedder() }), embedIn: 'page' };
}

/** GPT-2: the bundled model or the visitor's pick (web-demo/model-picker.js). A model being
 * replaced is disposed once no answer is streaming from it. */
const picker = createModelPicker({
  status,
  progressNote,
  use(gpt2) {
    const old = state.gpt2;
    state.gpt2 = gpt2;
    const dispose = () => (state.busy ? setTimeout(dispose, 100) : old?.dispose());
    dispose();
  },
});
const loadGpt2 = () => picker.start();

// ---------- chat ----------
function addMessage(cls, text) {
  const hint = document.querySelector('.hint');
  if (hint) hint.remove();
  const li = document.createElement('li');
  li.className = `msg ${cls}`;
  const span = document.createElement('span');
  span.className = 'text';
  span.textContent = text;
  li.append(span);
  $('messages').append(li);
  li.scrollIntoView({ block: 'end' });
  return li;
}

function meta(li, parts) {
  const div = document.createElement('div');
  div.className = 'meta';
  for (const [cls, text] of parts) {
    const s = document.createElement('span');
    if (cls) s.className = cls;
    s.textContent = text;
    div.append(s);
  }
  li.append(div);
}

// The lookup runs before the chat shows the question, which then appears with a hit's answer
// in one frame: the layout and painting of the question do not share the CPU with the lookup or
// hold up the worker's reply. On this page (the default) the lookup starts at once: a hit right
// after even the click's own frame (the cleared input, the disabled button) took 4.6-5.6 ms on
// two cores, 3.4 ms without. With the embedding in the worker the page only waits for a reply,
// which would wait behind that frame (7 ms instead of 1): the frame goes first. A lookup still
// running after 100 ms (a miss: the model answers next) shows the question meanwhile.
async function ask(question) {
  state.busy = true;
  $('send').disabled = true;
  if (state.embedIn !== 'page') await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  const t0 = performance.now();
  const lookup = state.cache.get(question).then((r) => ({ r, ms: performance.now() - t0 }), (error) => ({ error }));
  await Promise.race([lookup, new Promise((resolve) => setTimeout(resolve, 100))]);
  addMessage('user', question);
  const li = addMessage('bot', '');
  const text = li.querySelector('.text');
  try {
    const { r, ms, error } = await lookup;
    if (error) throw error;
    if (r.hit) {
      text.textContent = r.answer;
      li.dataset.result = 'hit';
      li.dataset.exact = String(r.exact);
      li.dataset.tier = r.tier;
      const t = r.timings;
      // where the time went: the embedding (on this page or in the cache's worker), the search and the answer's read
      const server = r.tier === 'next' && t?.nextMs !== undefined ? ` · server ${t.nextMs.toFixed(1)}` : '';
      // the OPFS cache's round trip: the page's total less the worker's own time (and a page
      // embedding); none when this page decided the hit on its copy of the entries
      const hop = r.tier !== 'local' || r.exact || !t ? '' : t.workerMs !== undefined ? ` · worker round trip ${(t.totalMs - t.workerMs - (state.embedIn === 'page' ? t.embedMs : 0)).toFixed(2)}` : ' · decided on this page';
      const split = t ? `(embed ${t.embedMs.toFixed(2)} · search ${t.searchMs.toFixed(2)} · read ${t.storeMs.toFixed(2)}${hop}${server})` : '';
      // which tier answered: this device's cache, or the server's (then copied to this device)
      meta(li, [['badge hit', r.tier === 'next' ? 'HIT · server' : 'HIT · this device'], ['matched', `“${r.matchedPrompt}”`], [null, r.exact ? 'the same question (no embedding)' : `similarity ${r.similarity.toFixed(3)} · ${state.rule.name} ${r[state.rule.key].toFixed(3)}`], ['ms', `${ms.toFixed(ms < 10 ? 2 : 1)} ms`], ['split', split]]);
      record(ms, true);
    } else {
      li.classList.add('streaming');
      li.dataset.result = 'miss';
      const kv = $('kv').checked;
      let answer = '';
      // the model ends at a blank line or a next question itself, so its stats are this answer's
      for await (const t of state.gpt2.generate(`Q: ${question}\nA:`, { maxTokens: Number($('maxTokens').value) || 40, temperature: 0.8, topK: 40, kvCache: kv, stop: ['\n\n', '\nQ:'] })) {
        answer += t.text;
        const cut = answer.search(/\n\s*\n|\nQ:/);
        text.textContent = (cut >= 0 ? answer.slice(0, cut) : answer).trimStart();
        if (cut >= 0) break;
      }
      answer = text.textContent.trim() || '(no answer)';
      text.textContent = answer;
      li.classList.remove('streaming');
      const ms = performance.now() - t0;
      const s = state.gpt2.lastStats;
      const near = r.similarity === null ? 'cache empty' : `nearest: similarity ${r.similarity.toFixed(3)}, ${state.rule.name} ${r[state.rule.key].toFixed(3)} < ${state.rule.t.toFixed(2)}`;
      meta(li, [['badge miss', 'MISS'], [null, near], [null, s ? `${s.generatedTokens} tokens · ${s.tokensPerSecond.toFixed(1)} tok/s · KV ${s.kvCache ? 'on' : 'off'}` : ''], [null, `${(ms / 1000).toFixed(2)} s`]]);
      record(ms, false);
      await state.cache.put(question, answer);
    }
  } catch (e) {
    li.classList.remove('streaming');
    li.dataset.result = 'error';
    text.textContent = `Something went wrong: ${e.message}`;
    meta(li, [['badge error', e.code ?? 'ERROR']]);
  } finally {
    // The side panels first: a question asked while they reload would queue behind their
    // reads in the cache's worker.
    await refresh().catch((e) => console.warn('refresh failed:', e));
    state.busy = false;
    $('send').disabled = false;
  }
}

// ---------- side panels ----------
function record(ms, hit) {
  state.points.push({ ms, hit });
  drawChart();
}

function drawChart() {
  const svg = $('chart');
  const W = 320, H = 140, L = 34, B = 18;
  const pts = state.points.slice(-40);
  const lo = 0.1, hi = Math.max(10000, ...pts.map((p) => p.ms));
  const y = (ms) => H - B - ((Math.log10(Math.max(ms, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (H - B - 8);
  const x = (i) => L + (pts.length <= 1 ? (W - L) / 2 : (i / (pts.length - 1)) * (W - L - 8));
  const ns = 'http://www.w3.org/2000/svg';
  svg.replaceChildren();
  for (const v of [1, 10, 100, 1000, 10000]) {
    if (v > hi) continue;
    const line = document.createElementNS(ns, 'line');
    Object.entries({ x1: L, x2: W, y1: y(v), y2: y(v), class: 'axis' }).forEach(([k, val]) => line.setAttribute(k, val));
    const label = document.createElementNS(ns, 'text');
    label.setAttribute('x', 2);
    label.setAttribute('y', y(v) + 3);
    label.textContent = v >= 1000 ? `${v / 1000}s` : `${v}ms`;
    svg.append(line, label);
  }
  pts.forEach((p, i) => {
    const c = document.createElementNS(ns, 'circle');
    Object.entries({ cx: x(i), cy: y(p.ms), r: 4, class: p.hit ? 'hit' : 'miss' }).forEach(([k, val]) => c.setAttribute(k, val));
    const title = document.createElementNS(ns, 'title');
    title.textContent = `${p.hit ? 'hit' : 'miss'}: ${p.ms.toFixed(1)} ms`;
    c.append(title);
    svg.append(c);
  });
}

async function refresh() {
  const s = await state.cache.stats();
  const rows = [
    ['Entries', s.entries],
    ['Lookups', s.lookups],
    ['Hits', `${s.hits} (${(s.hitRate * 100).toFixed(0)}%)`],
    ['Misses', s.misses],
    ['Evictions', s.evictions],
    ['Embedding time', `${s.time.embedMs.toFixed(0)} ms`],
    ['Search time', `${s.time.searchMs.toFixed(1)} ms`],
  ];
  if (s.next) rows.push(['Server tier', `${s.next.hits} of ${s.next.lookups} hits, ${s.next.writes} written${s.next.errors ? `, ${s.next.errors} failed` : ''}`]);
  if (s.storage?.budget) rows.push(['Storage', `${mb(s.storage.databaseBytes)} of ${mb(s.storage.budget)} (quota ${mb(s.storage.quota)})`]);
  $('stats').replaceChildren(...rows.flatMap(([k, v]) => {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    return [dt, dd];
  }));
  status('cache', 'ready', entriesText(s.entries));
  const entries = await state.cache.entries({ limit: 50 });
  const ul = $('entries');
  if (!entries.length) {
    ul.innerHTML = '<li class="muted">Nothing cached yet.</li>';
    return;
  }
  ul.replaceChildren(...entries.map((e) => {
    const li = document.createElement('li');
    const p = document.createElement('span');
    p.className = 'p';
    p.textContent = e.prompt;
    p.title = e.answer;
    const h = document.createElement('span');
    h.className = 'h';
    h.textContent = `${e.hits} hit${e.hits === 1 ? '' : 's'}`;
    const del = document.createElement('button');
    del.type = 'button';
    del.title = 'Delete this entry';
    del.setAttribute('aria-label', `Delete “${e.prompt}”`);
    del.textContent = '×';
    del.onclick = async () => {
      await state.cache.delete(e.id);
      await refresh();
    };
    li.append(p, h, del);
    return li;
  }));
}

// ---------- wiring ----------
$('ask').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const q = $('question').value.trim();
  if (!q || state.busy) return;
  $('question').value = '';
  ask(q);
});
$('question').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey) {
    ev.preventDefault();
    $('ask').requestSubmit();
  }
});
$('clearAll').addEventListener('click', async () => {
  await state.cache.clear();
  await refresh();
});

state.ready = Promise.all([
  loadEmbedderAndCache().catch((e) => {
    status('embedder', 'failed', e.message);
    throw e;
  }),
  loadGpt2().catch((e) => {
    status('gpt2', 'failed', e.message);
    throw e;
  }),
]).then(async () => {
  $('question').disabled = false;
  $('send').disabled = false;
  $('question').focus();
  await refresh();
});
