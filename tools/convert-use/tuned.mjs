// A tuned model's folder, as tools/finetune-encoder writes it and the repository keeps it
// (models/NAME/): weights.safetensors (fp16) and manifest.json, which records the weights'
// sha256, the recipe and its version, the training data's sha256, the seed, the training run's
// time and losses, and the calibrated defaults the embedder carries (threshold, text
// normalization). The converter reads it through here: weights that do not match their
// manifest stop the build.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readSafetensors } from './safetensors.mjs';

export const TUNED_FORMAT = 'semcache-tuned-weights';
export const TUNED_VERSION = 1;
/** The size the repository allows one committed model file. */
export const MAX_WEIGHTS_BYTES = 16 * 1024 * 1024;

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

/** The manifest, with the weights file checked against it (format, size, sha256). */
export function checkTuned(dir) {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  if (manifest.format !== TUNED_FORMAT || manifest.version !== TUNED_VERSION)
    throw new Error(`${dir}/manifest.json is ${manifest.format} v${manifest.version}, expected ${TUNED_FORMAT} v${TUNED_VERSION}`);
  const w = manifest.weights;
  const bytes = fs.readFileSync(path.join(dir, w.file));
  if (bytes.length !== w.bytes || bytes.length > MAX_WEIGHTS_BYTES)
    throw new Error(`${dir}/${w.file}: ${bytes.length} bytes, the manifest says ${w.bytes} (at most ${MAX_WEIGHTS_BYTES})`);
  const got = sha256(bytes);
  if (got !== w.sha256) throw new Error(`${dir}/${w.file}: sha256 ${got}, the manifest says ${w.sha256}`);
  return { manifest, bytes };
}

/** { manifest, tensors, summary }: summary is what the converted model's manifest records. */
export function readTuned(dir) {
  const { manifest, bytes } = checkTuned(dir);
  const { tensors } = readSafetensors(bytes);
  const summary = {
    name: manifest.name,
    weightsSha256: manifest.weights.sha256,
    recipe: `${manifest.recipe.tool} v${manifest.recipe.version}`,
    dataSha256: manifest.data.sha256,
    seed: manifest.recipe.seed,
    threshold: manifest.threshold,
    textNormalization: manifest.textNormalization,
    evaluator: manifest.evaluator,
  };
  return { manifest, tensors, summary };
}
