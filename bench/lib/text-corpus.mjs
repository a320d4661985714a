// Real English sentences for the `scale` and `graph-data` benches (`--data text`, `--kinds text`):
// 1.05M distinct sentence-sized texts from Debian packages (GCIDE's definitions and quotations,
// WordNet's glosses and examples, fortunes, and, for the count, Debian's documentation packages:
// the kernel's, Python's, Java's, Qt's, PostgreSQL's…) and the QQP questions, embedded by the
// default encoder into a flat f32 file. A million real questions are not at hand; real text is
// the nearest thing, and a Gaussian fitted to real embeddings is far harder for the index than
// real embeddings are (recall@1 0.54 against 0.995 at efSearch 40).
// Texts: 5-40 words (a longer sentence splits at its semicolons), markup stripped, NFKC + lower
// case + one space (the QQP questions' form, bench/lib/quality-data.mjs groupKey), deduplicated on
// the text the cache embeds (embedKey), shuffled with a seeded PRNG so that any prefix mixes all
// sources. The sentence list is kept beside the vectors (line i = row i).
// Embedding: the default encoder is int8 ('q8') with per-run activation scales, so OnnxEmbedder
// runs one text at a time (a batch would change the vectors; onnxruntime-node runs the same model
// 7x faster but its int8 kernels round differently: cosine 0.9998 to the wasm path at worst).
// ~280 texts/s a process here: two processes (~50 min for 1.05M on 2 cores), each appending
// chunks to its own part file, so that a killed run goes on where it stopped.
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { rng } from '../../tests/js/toy-vector.mjs';
import { loadEmbedder } from './embedders.mjs';
import { embedKey, groupKey, qqpPairs } from './quality-data.mjs';

const PACKAGES = ['dict-gcide', 'wordnet-base', 'fortunes', 'linux-doc-6.1', 'python3.11-doc', 'debian-handbook', 'postgresql-doc-15', 'perl-doc', 'rust-doc', 'qtbase5-doc-html', 'python-django-doc', 'python-sqlalchemy-doc', 'python-scipy-doc', 'llvm-15-doc', 'cmake-doc', 'octave-doc', 'python-pandas-doc', 'r-doc-html', 'git-doc', 'openjdk-17-doc'];
const GCIDE = '/usr/share/dictd/gcide.dict.dz', WORDNET = '/usr/share/wordnet', FORTUNES = '/usr/share/games/fortunes';
const KERNEL = '/usr/share/doc/linux-doc-6.1/Documentation', PYTHON = '/usr/share/doc/python3.11/html/_sources';
const SEED = 20240611, CHUNK = 10_000;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The Debian packages the sources come from, installed if missing (the project's rule: each
 * command installs what it needs). --no-remove: a documentation package can conflict with a
 * runtime installed from elsewhere (Debian's nodejs-doc with another nodejs), never trade one. */
function ensurePackages(log) {
  const missing = PACKAGES.filter((p) => {
    try {
      return !execFileSync('dpkg-query', ['-W', '-f', '${Status}', p], { encoding: 'utf8' }).includes('ok installed');
    } catch {
      return true;
    }
  });
  if (!missing.length) return;
  log(`installing ${missing.join(' ')} (apt-get)…`);
  const asRoot = process.getuid?.() === 0, env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (...a) => execFileSync(asRoot ? 'apt-get' : 'sudo', asRoot ? a : ['apt-get', ...a], { stdio: ['ignore', 'ignore', 'inherit'], env });
  try {
    apt('update', '-qq');
    apt('install', '-y', '-qq', '--no-install-recommends', '--no-remove', ...missing);
  } catch (e) {
    throw new Error(`the text corpus needs the Debian packages ${missing.join(' ')}: installing them failed (${e.message}); run apt-get install --no-install-recommends ${missing.join(' ')} as root`);
  }
}

const words = (s) => s.split(' ').length;
// left-over markup, code, ASCII art or tables: not prose
const junk = /[\\{}[\]<>|*`_=#@~^+]|\d{4,}|\.\.\.\.|[a-z]\.[a-z]\./;

/** Sentence-sized texts in `s`: sentences of 5-40 words, longer ones split at semicolons. */
function sentences(s, out) {
  s = s.replace(/\s+/g, ' ').trim();
  for (const sent of s.split(/(?<=[.!?]["')]?)\s+(?=["'(]?[A-Z0-9])/)) {
    for (const t of words(sent) > 40 ? sent.split(/;\s+/) : [sent]) {
      const n = words(t);
      if (n >= 5 && n <= 40 && !junk.test(t) && /[a-z]/.test(t)) out.push(t);
    }
  }
}

/** GCIDE: definitions, usage examples and quotations; headwords, pronunciations, etymologies,
 * subject labels, citations (--Shak.) and source tags ([1913 Webster]) stripped. */
function gcide() {
  const out = [];
  const text = zlib.gunzipSync(fs.readFileSync(GCIDE)).toString('utf8');
  for (const entry of text.split(/\n(?=\S)/)) {
    if (/^(00-database|Syn:|Note:)/.test(entry)) continue;
    const body = entry
      .split('\n')
      .map((l) => l.replace(/\s--\s*[A-Z(].*$|^\s*--[A-Z].*$/, ''))  // quotation citations
      .join('\n')
      .replace(/^[^\n]*?\\[^\\\n]*\\[^\n]*/, (head) => head.replace(/^.*\\[,;]?\s*([a-z]+\.\s*(&\s*)?)*/, ''))  // headword line
      .replace(/\[[^[\]]*\]/g, '')
      .replace(/\[[^[\]]*\]/g, '')  // nested etymologies
      .replace(/\{[^}]*[*`"][^}]*\}/g, '')  // forms with pronunciation marks
      .replace(/[{}]/g, '')
      .replace(/\((?:[A-Z][a-z]*\.?\s*(?:&\s*)?)+\)/g, '')  // (Zool.), (Anat. & Zool.)
      .replace(/(^|\s)(?:\d+\.|\([a-z]\))\s/g, ' ');  // sense numbers
    for (const para of body.split(/\n\s*\n|\n\s*Syn:|\n\s*Note:/)) sentences(para.replace(/^\s*(Syn|Note):.*/s, ''), out);
  }
  return out;
}

/** WordNet 3.0: each synset's gloss and its quoted examples. */
function wordnet() {
  const out = [];
  for (const pos of ['noun', 'verb', 'adj', 'adv']) {
    for (const line of fs.readFileSync(path.join(WORDNET, `data.${pos}`), 'utf8').split('\n')) {
      const gloss = line.startsWith(' ') ? '' : line.split(' | ')[1];
      if (!gloss) continue;
      for (const part of gloss.split(/;\s*(?=")|"\s*;\s*/)) sentences(part.replace(/"/g, '').replace(/^./, (c) => c.toUpperCase()), out);
    }
  }
  return out;
}

/** fortunes: quotations and jokes, attributions dropped. */
function fortunes() {
  const out = [];
  for (const f of fs.readdirSync(FORTUNES).filter((f) => !/\.(dat|u8)$/.test(f))) {
    for (const cookie of fs.readFileSync(path.join(FORTUNES, f), 'utf8').split(/^%$/m)) {
      sentences(cookie.split('\n').filter((l) => !/^\s*(--|\u2014)/.test(l)).join(' '), out);
    }
  }
  return out;
}

/** Prose paragraphs of reStructuredText (or plain text) documentation: titles, directives, code
 * (after '::', '>>>', or more indented than the text) and tables skipped; inline markup unwrapped. */
function rst(text, out) {
  let code = -1;  // the indentation a literal block after '::' must exceed
  for (const para of text.split(/\n[ \t]*\n/)) {
    const lines = para.split('\n').filter((l) => l.trim());
    if (!lines.length) continue;
    const indent = lines[0].match(/^\s*/)[0].length;
    const prose = !(code >= 0 && indent > code) && !/^\s*(\.\. |>>>|\$ |#|\+[-=]|[-=~*^#"'`.:+]{3,}\s*$)/.test(lines[0]) && !lines.some((l) => /^\s*[-=~*^+]{3,}\s*$/.test(l));
    if (code >= 0 && indent <= code) code = -1;
    if (/::\s*$/.test(para)) code = indent;
    if (!prose) continue;
    sentences(
      lines
        .map((l) => l.replace(/^\s*(?:[-*•]|\d+[.)]|#\.)\s+/, ''))
        .join(' ')
        .replace(/:[\w:-]+:`[!~]?([^`<]*?)\s*(?:<[^>]*>)?`/g, '$1')  // :ref:`text <target>`
        .replace(/`([^`<]*?)\s*(?:<[^>]*>)?`__?/g, '$1')  // `text <url>`_
        .replace(/``([^`]*)``/g, '$1')
        .replace(/\*\*?([^*]+)\*\*?/g, '$1')
        .replace(/::\s*$/, ':'),
      out,
    );
  }
}

/** Every file under `dir` whose path matches `re` and not `skip`, gunzipped if need be. */
function* files(dir, re, skip) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const f = path.join(e.parentPath ?? e.path, e.name);
    if (e.isFile() && re.test(f) && !skip?.test(f)) yield (f.endsWith('.gz') ? zlib.gunzipSync(fs.readFileSync(f)) : fs.readFileSync(f)).toString('utf8');
  }
}

/** Prose in HTML: the text of paragraphs, list items, definitions and javadoc's description
 * blocks, tags dropped and entities decoded (code in <pre> is never inside one). */
const entities = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', mdash: '—', ndash: '–', rsquo: '’', lsquo: '‘', rdquo: '”', ldquo: '“', hellip: '…' };
function html(text, out) {
  for (const m of text.matchAll(/<(p|li|dd|div class="(?:block|para)")(?:\s[^>]*)?>([\s\S]*?)<\/(?:p|li|dd|div)>/g)) {
    sentences(
      m[2]
        .replace(/<pre[\s\S]*?<\/pre>/g, ' ')
        .replace(/<[^>]*>/g, '')
        .replace(/&(#x?[0-9a-f]+|\w+);/gi, (e, n) => (n[0] === '#' ? String.fromCodePoint(n[1] === 'x' ? parseInt(n.slice(2), 16) : Number(n.slice(1))) : entities[n] ?? e)),
      out,
    );
  }
}

/** Perl's POD: ordinary paragraphs (not commands, not indented verbatim), formatting codes unwrapped. */
function pod(text, out) {
  for (const para of text.split(/\n[ \t]*\n/)) {
    if (/^(=|\s)/.test(para)) continue;
    let t = para;
    for (let i = 0; i < 3; i++) t = t.replace(/[A-Z]<(?:<+\s)?([^<>]*?)(?:\s>+)?>/g, (_, x) => x.replace(/^[^|]*\|/, ''));  // L<text|target>, C<code>, nested
    sentences(t, out);
  }
}

const under = (dir, re, skip, parse) => () => {
  const out = [];
  for (const t of files(dir, re, skip)) parse(t, out);
  return out;
};

/** The distinct normalized texts of every source in shuffled order, with each one's source. */
function textCorpus(log) {
  ensurePackages(log);
  const sources = {
    qqp: () => qqpPairs().flatMap((p) => [p.a, p.b]),
    gcide,
    wordnet,
    fortunes,
    'linux-doc': under(KERNEL, /\.(rst|txt)(\.gz)?$/, /\/(translations|ABI|devicetree)\//, rst),  // not the sysfs lists, DT schemas
    'python-doc': under(PYTHON, /\.rst\.txt$/, null, rst),
    // more Debian documentation, for the count: books and manuals first, API references last
    'debian-handbook': under('/usr/share/doc/debian-handbook/html/en-US', /\.html$/, null, html),
    'postgresql-doc': under('/usr/share/doc/postgresql-doc-15/html', /\.html$/, null, html),
    'perl-doc': under('/usr/share/perl/5.36.0/pod', /\.pod$/, null, pod),
    'rust-doc': under('/usr/share/doc/rust-doc/html', /\.html$/, /\/(core\/arch|core\/core_arch|std\/arch|src)\//, html),
    'qt5-doc': under('/usr/share/qt5/doc', /\.html$/, null, html),
    'django-doc': under('/usr/share/doc/python-django-doc/html', /\.html$/, /\/_modules\//, html),
    'sqlalchemy-doc': under('/usr/share/doc/python-sqlalchemy-doc/html', /\.html$/, /\/_modules\//, html),
    'scipy-doc': under('/usr/share/doc/python-scipy-doc/html', /\.html$/, /\/_modules\//, html),
    'llvm-doc': under('/usr/share/doc/llvm-15-doc/html', /\.html$/, /\/_modules\//, html),
    'cmake-doc': under('/usr/share/doc/cmake-data/html', /\.html$/, /\/_modules\//, html),
    'octave-doc': under('/usr/share/doc/octave', /\.html$/, null, html),
    'pandas-doc': under('/usr/share/doc/python-pandas-doc/html', /\.html$/, /\/_modules\//, html),
    'r-doc': under('/usr/share/R/doc/manual', /\.html$/, null, html),
    'git-doc': under('/usr/share/doc/git-doc', /\.html$/, null, html),
    'openjdk-doc': under('/usr/share/doc/openjdk-17-jre-headless/api', /\.html$/, /\/(class-use|index-files|legal)\//, html),
  };
  const seen = new Set(), texts = [], from = [], names = Object.keys(sources);
  names.forEach((name, s) => {
    for (const raw of sources[name]()) {
      const t = groupKey(raw), k = embedKey(t);  // dedupe on the text the cache embeds
      if (!t || seen.has(k)) continue;
      seen.add(k);
      texts.push(t);
      from.push(s);
    }
    log(`  ${name}: ${from.filter((x) => x === s).length} texts`);
  });
  const { next } = rng(SEED);
  for (let i = texts.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [texts[i], texts[j]] = [texts[j], texts[i]];
    [from[i], from[j]] = [from[j], from[i]];
  }
  return { texts, from, names };
}

const sanitize = (id) => String(id).replace(/[^\w.@-]/g, '_');

/** `count` (default 1,050,000) real sentences embedded by the default encoder: a count x 512
 * f32 file in `dir` (build/bench-scale-text), its sentence list and a .json sidecar (sources,
 * seed, the list's sha256, encoder), made once (resumable with the same `workers`: each process
 * embeds its share of rows). Returns {file, id, count, sha256}: callers read a prefix (stored
 * rows) and what follows it (held-out queries). */
export async function textEmbeddings({ dir = path.join(root, 'build/bench-scale-text'), count = 1_050_000, workers = 2, log = () => {} } = {}) {
  const embedder = await loadEmbedder('use');
  const base = path.join(dir, `text-${sanitize(embedder.id)}-${count}x${embedder.dimensions}`);
  const file = `${base}.f32`, listFile = `${base}.txt`, row = embedder.dimensions * 4;
  const done = () => ({ file, id: embedder.id, count, sha256: JSON.parse(fs.readFileSync(`${base}.json`, 'utf8')).sha256 });
  if (fs.existsSync(file) && fs.statSync(file).size === count * row && fs.existsSync(`${base}.json`)) return done();
  fs.mkdirSync(dir, { recursive: true });
  // one build at a time: a second one would append to the same part files
  const lock = `${file}.lock`;
  try {
    fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
  } catch {
    const pid = Number(fs.readFileSync(lock, 'utf8'));
    try {
      process.kill(pid, 0);
      throw new Error(`${path.relative(root, file)} is being built by process ${pid} (${lock}): wait for it`);
    } catch (e) {
      if (e.code !== 'ESRCH') throw e;
      fs.writeFileSync(lock, String(process.pid));  // a killed build's: take it over
    }
  }
  if (!fs.existsSync(`${base}.json`)) {
    log('collecting sentences…');
    const { texts, from, names } = textCorpus(log);
    if (texts.length < count) throw new Error(`only ${texts.length} distinct sentences, asked for ${count}`);
    const list = texts.slice(0, count).join('\n') + '\n';
    const sources = Object.fromEntries(names.map((n, s) => [n, from.slice(0, count).filter((x) => x === s).length]));
    const corpus = Object.fromEntries(names.map((n, s) => [n, from.filter((x) => x === s).length]));
    fs.writeFileSync(listFile, list);
    const meta = { encoder: embedder.id, count, dim: embedder.dimensions, seed: SEED, sentences: path.basename(listFile), sha256: crypto.createHash('sha256').update(list).digest('hex'), sources, corpus: { distinct: texts.length, sources: corpus }, packages: PACKAGES };
    fs.writeFileSync(`${base}.json`, JSON.stringify(meta, null, 1) + '\n');
    log(`${texts.length} distinct sentences, the first ${count} kept: ${JSON.stringify(sources)}`);
  }
  await embedder.dispose?.();
  // Each worker embeds rows [a, b) into base.f32.partK, appending CHUNK rows at a time.
  const share = Math.ceil(count / workers), started = performance.now();
  log(`embedding ${count} sentences with ${embedder.id} in ${workers} processes (log: progress per ${CHUNK})…`);
  await Promise.all(
    Array.from({ length: workers }, (_, k) => new Promise((resolve, reject) => {
      const args = [fileURLToPath(import.meta.url), '--worker', listFile, String(k * share), String(Math.min(count, (k + 1) * share)), `${file}.part${k}`];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr.on('data', (d) => String(d).trim().split('\n').forEach((l) => log(`[${k}] ${l}`)));
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`embedding worker ${k} exited with ${code}`))));
    })),
  );
  const fd = fs.openSync(`${file}.tmp`, 'w');
  for (let k = 0; k < workers; k++) fs.writeSync(fd, fs.readFileSync(`${file}.part${k}`));
  fs.closeSync(fd);
  if (fs.statSync(`${file}.tmp`).size !== count * row) throw new Error(`${file}.tmp has ${fs.statSync(`${file}.tmp`).size} bytes, expected ${count * row}`);
  fs.renameSync(`${file}.tmp`, file);
  for (let k = 0; k < workers; k++) fs.rmSync(`${file}.part${k}`);
  fs.rmSync(lock);
  log(`embedded in ${Math.round((performance.now() - started) / 1000)} s: ${path.relative(root, file)}`);
  return done();
}

/** A worker: rows [a, b) of the list into `part`, going on from the rows it already holds. */
async function worker(listFile, a, b, part) {
  const embedder = await loadEmbedder('use'), row = embedder.dimensions * 4;
  const texts = fs.readFileSync(listFile, 'utf8').split('\n').slice(a, b);
  const have = fs.existsSync(part) ? Math.floor(fs.statSync(part).size / row) : 0;
  if (fs.existsSync(part)) fs.truncateSync(part, have * row);  // drop a torn row
  const fd = fs.openSync(part, 'a'), t0 = performance.now();
  for (let i = have; i < texts.length; i += CHUNK) {
    const vecs = await embedder.embed(texts.slice(i, i + CHUNK));
    const out = new Float32Array(vecs.length * embedder.dimensions);
    vecs.forEach((v, j) => out.set(v, j * embedder.dimensions));
    fs.writeSync(fd, new Uint8Array(out.buffer));
    const n = i + vecs.length, s = (performance.now() - t0) / 1000;
    process.stderr.write(`${n}/${texts.length} (${Math.round((n - have) / s)}/s, ${Math.round(((texts.length - n) * s) / (n - have) / 60)} min left)\n`);
  }
  fs.closeSync(fd);
}

// node bench/lib/text-corpus.mjs [--count N]: build the file (run it niced: it takes both cores).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--worker') await worker(process.argv[3], Number(process.argv[4]), Number(process.argv[5]), process.argv[6]);
  else {
    const i = process.argv.indexOf('--count');
    const log = (s) => process.stderr.write(`text-corpus: ${s}\n`);
    console.log(JSON.stringify(await textEmbeddings({ count: i > 0 ? Number(process.argv[i + 1]) : undefined, log })));
  }
}
