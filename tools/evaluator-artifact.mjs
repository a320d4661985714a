// The default learned evaluator as a committed artifact (models/evaluator/model.bin + manifest):
// training it means embedding ~64k QQP sentences (minutes on two cores), so the build installs
// the committed bytes, checked against their manifest, and `npm run retrain:evaluator` makes them.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { qqpDataHash } from '../bench/lib/quality-data.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, 'models/evaluator');
export const COMMITTED = path.join(dir, 'model.bin');
export const MANIFEST = path.join(dir, 'manifest.json');
const RECIPE_VERSION = '1';

const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');

/** The committed model's bytes (or those in `from`), checked against their manifest (throws
 * naming what differs). */
export function readCommitted(from = dir) {
  const file = path.join(from, 'model.bin');
  const manifestFile = path.join(from, 'manifest.json');
  if (!fs.existsSync(file) || !fs.existsSync(manifestFile)) throw new Error(`${path.relative(root, from)}: model.bin or manifest.json missing (npm run retrain:evaluator makes them)`);
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  const bytes = fs.readFileSync(file);
  if (bytes.length !== manifest.bytes || sha256(bytes) !== manifest.sha256) throw new Error(`${path.relative(root, file)}: sha256 ${sha256(bytes)} (${bytes.length} bytes) is not the manifest's ${manifest.sha256}`);
  return { manifest, bytes };
}

/** Copies the committed model to `out` if it was trained from the inputs whose hash is `stamp`. */
export function installCommitted(stamp, out) {
  const { manifest, bytes } = readCommitted();
  if (manifest.inputs !== stamp) {
    throw new Error(
      `${path.relative(root, COMMITTED)} was trained from other inputs (manifest ${manifest.inputs.slice(0, 12)}, now ${stamp.slice(0, 12)}: the trainer, the signature or learned-evaluator code, the split or the default encoder changed). Run: npm run retrain:evaluator`,
    );
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(`${out}.tmp`, bytes);
  fs.renameSync(`${out}.tmp`, out);
  fs.writeFileSync(`${out}.stamp`, stamp);
}

/** Writes a freshly trained model and its manifest under models/evaluator. */
export function commitModel(bytes, { stamp, embedder, seed, settings }) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(COMMITTED, bytes);
  const manifest = {
    format: 'semcache-evaluator-model',
    file: 'model.bin',
    bytes: bytes.length,
    sha256: sha256(bytes),
    // sha256 over the trainer's inputs (its sources, the split, the default encoder's built
    // manifest, the settings): the build refuses the model when they no longer match
    inputs: stamp,
    embedder,
    recipe: { tool: 'tools/train-evaluator.mjs', version: RECIPE_VERSION, seed, settings, command: 'npm run retrain:evaluator' },
    data: { file: '../shared/data/qqp/pairs-dev.jsonl.gz', sha256: qqpDataHash() },
  };
  fs.writeFileSync(MANIFEST, JSON.stringify(manifest, null, 2) + '\n');
}
