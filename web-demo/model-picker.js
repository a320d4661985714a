// The demo's model picker: the bundled brown-gpt2 (small, writes word salad), or a GPT-2
// checkpoint from a URL the visitor enters (Hugging Face layout: config.json, model.safetensors,
// vocab.json, merges.txt; GPT-2 124M is ~500 MB). A URL is fetched only once chosen. The weights
// download with progress in the GPT-2 pill, can be cancelled, and are stored as they arrive
// (the library's resumable download, js/resumable.ts): a reload, a cancel or a dropped
// connection continues from the stored bytes, and a finished download loads with no request.
// The choice is remembered (localStorage). A model that fails to load leaves the one in use.
import { Gpt2 } from '/dist/index.js';

const KEY = 'semcache-demo-model';
const here = (p) => new URL(p, location.href).href;  // the worker resolves URLs: make them absolute
const BUNDLED = {
  name: 'brown-gpt2',
  source: { url: here('/models/gpt2'), files: { encoder: here('/models/gpt2-tokenizer/encoder.json'), merges: here('/models/gpt2-tokenizer/vocab.bpe') } },
};

function remembered() {
  try {
    const c = JSON.parse(localStorage.getItem(KEY) ?? 'null');
    return c?.kind === 'url' && typeof c.url === 'string' ? c : { kind: 'bundled' };
  } catch {
    return { kind: 'bundled' };
  }
}
const remember = (choice) => localStorage.setItem(KEY, JSON.stringify(choice));

/** "huggingface.co/openai-community/gpt2" for the pill; the full URL is in the field. */
function shortName(url) {
  const u = new URL(url);
  return (u.host + u.pathname).replace(/\/resolve\/[^/]+\/?$/, '').replace(/\/+$/, '');
}

/**
 * `status(part, cls, note, progress)` and `progressNote(part)` are the page's pill helpers;
 * `use(gpt2)` hands over a loaded model (the page disposes the one it replaces).
 */
export function createModelPicker({ status, progressNote, use }) {
  const $ = (id) => document.getElementById(id);
  const form = $('modelForm'), urlInput = $('modelUrl'), note = $('modelNote'), load = $('modelLoad'), cancel = $('modelCancel');
  let current = null;  // { name } of the model in use
  let loading = null;  // the AbortController of a load under way

  const say = (text, code) => {
    note.textContent = text;
    if (code) note.dataset.code = code;
    else delete note.dataset.code;
  };
  const choice = () => (form.elements.model.value === 'url' ? { kind: 'url', url: urlInput.value.trim() } : { kind: 'bundled' });
  const sync = () => {
    urlInput.disabled = form.elements.model.value !== 'url' || !!loading;
    load.disabled = !!loading;
    cancel.hidden = !loading;
  };

  /** Loads a model in a new worker; the one in use stays until this one is ready. */
  async function open(name, source) {
    const ctl = new AbortController();
    loading = ctl;
    sync();
    const worker = new Worker('/workers/gpt2.js', { type: 'module' });
    status('gpt2', 'loading', `${name}: starting…`, 0);
    try {
      const gpt2 = await Gpt2.load(source, { format: 'int8', worker, signal: ctl.signal, onProgress: progressNote('gpt2') });
      current = { name };
      use(gpt2);
      const c = gpt2.info.config;
      status('gpt2', 'ready', `${name}: ${c.nLayer} layers, ${c.nEmbd}-d, int8`, 1);
      return gpt2;
    } catch (e) {
      worker.terminate();
      throw e;
    } finally {
      loading = null;
      sync();
    }
  }

  async function openChoice(c) {
    if (c.kind === 'bundled') return open(BUNDLED.name, BUNDLED.source);
    return open(shortName(c.url), { url: c.url });
  }

  /** A custom model failed: say why, and keep (or, at start, load) the bundled one. */
  async function failed(c, e) {
    const aborted = e?.code === 'ABORTED';
    say(aborted ? 'Cancelled: the bytes downloaded so far are kept, Load continues from there.' : `${e?.code ?? 'ERROR'}: ${e?.message ?? e}`, aborted ? undefined : e?.code ?? 'ERROR');
    remember({ kind: 'bundled' });
    if (current) status('gpt2', 'ready', `${current.name} (kept)`, 1);
    else await openChoice({ kind: 'bundled' });
  }

  form.addEventListener('change', sync);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const c = choice();
    if (c.kind === 'url') {
      try {
        const u = new URL(c.url);
        if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('not http(s)');
      } catch {
        say('INVALID_ARGUMENT: enter the http(s) URL of a folder with config.json, model.safetensors, vocab.json and merges.txt', 'INVALID_ARGUMENT');
        return;
      }
    } else if (current?.name === BUNDLED.name) {
      remember(c);
      return;
    }
    say('');
    // remembered before it finishes: a reload mid-download continues the download
    remember(c);
    try {
      await openChoice(c);
    } catch (e) {
      if (c.kind === 'bundled') status('gpt2', 'failed', `${e.code ?? 'ERROR'}: ${e.message}`);
      else await failed(c, e);
    }
  });
  cancel.addEventListener('click', () => loading?.abort());

  return {
    /** Loads the remembered model (the bundled one if none, or if the remembered one fails). */
    async start() {
      const c = remembered();
      form.elements.model.value = c.kind;
      if (c.kind === 'url') urlInput.value = c.url;
      sync();
      try {
        await openChoice(c);
      } catch (e) {
        if (c.kind === 'bundled') throw e;
        await failed(c, e);
      }
    },
  };
}
