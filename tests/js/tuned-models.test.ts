// The project's own trained artifacts (models/NAME: weights.safetensors + manifest.json, made by
// `npm run retrain`): each file matches its manifest, the manifest says how it was made, the
// build converted exactly those weights, and the default encoder is the tuned one while the
// original USE lite still loads by name.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OnnxEmbedder } from 'semcache';
import { checkTuned, MAX_WEIGHTS_BYTES } from '../../tools/convert-use/tuned.mjs';
import { QQP_FILE } from '../../bench/lib/quality-data.mjs';
import { MANIFEST as EVALUATOR_MANIFEST, readCommitted } from '../../tools/evaluator-artifact.mjs';
import { root } from './helpers.js';

const isTuned = (n: string) => {
  const f = path.join(root, 'models', n, 'manifest.json');
  return fs.existsSync(f) && JSON.parse(fs.readFileSync(f, 'utf8')).format === 'semcache-tuned-weights';
};
const names = fs.readdirSync(path.join(root, 'models')).filter(isTuned);

describe('committed tuned models', () => {
  it('are there: the default encoder at least', () => {
    expect(names).toContain('use-lite-cache');
  });

  for (const name of names) {
    it(`${name}: the weights match the manifest, which records recipe, data, seed`, () => {
      const dir = path.join(root, 'models', name);
      const { manifest, bytes } = checkTuned(dir);
      expect(bytes.length).toBeLessThanOrEqual(MAX_WEIGHTS_BYTES);
      expect(manifest.weights.dtype).toBe('F16');
      expect(manifest.recipe.tool).toBe('tools/finetune-encoder');
      expect(typeof manifest.recipe.version).toBe('string');
      expect(Number.isInteger(manifest.recipe.seed)).toBe(true);
      expect(manifest.data.sha256).toMatch(/^[0-9a-f]{64}$/);
      if (fs.existsSync(QQP_FILE)) expect(manifest.data.sha256).toBe(crypto.createHash('sha256').update(fs.readFileSync(QQP_FILE)).digest('hex'));
      // the build converted these weights
      // (the pair model is the quality bench's, converted into build/, not shipped)
      const builtDir = name === 'pair' ? path.join(root, 'build/models', name) : path.join(root, 'dist/models', name);
      const built = JSON.parse(fs.readFileSync(path.join(builtDir, 'manifest.json'), 'utf8'));
      expect(built.tuned.weightsSha256).toBe(manifest.weights.sha256);
    });
  }

  it('a weights file that differs from its manifest by one byte is refused', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-tuned-'));
    try {
      const src = path.join(root, 'models/use-lite-cache');
      fs.copyFileSync(path.join(src, 'manifest.json'), path.join(tmp, 'manifest.json'));
      const bytes = fs.readFileSync(path.join(src, 'weights.safetensors'));
      bytes[bytes.length - 3]! ^= 1;
      fs.writeFileSync(path.join(tmp, 'weights.safetensors'), bytes);
      expect(() => checkTuned(tmp)).toThrow(/sha256/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('the learned evaluator: committed bytes match their manifest, the build installed them, trained for the default encoder', async () => {
    const { manifest, bytes } = readCommitted();
    expect(manifest.recipe.command).toBe('npm run retrain:evaluator');
    expect(Number.isInteger(manifest.recipe.seed)).toBe(true);
    if (fs.existsSync(QQP_FILE)) expect(manifest.data.sha256).toBe(crypto.createHash('sha256').update(fs.readFileSync(QQP_FILE)).digest('hex'));
    expect(fs.readFileSync(path.join(root, 'dist/models/evaluator/model.bin')).equals(bytes)).toBe(true);
    const tuned = await OnnxEmbedder.load();
    try {
      expect(manifest.embedder).toBe(tuned.id);
    } finally {
      await tuned.dispose();
    }
    // one flipped byte is refused, naming the file
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-evaluator-'));
    try {
      fs.copyFileSync(EVALUATOR_MANIFEST, path.join(tmp, 'manifest.json'));
      const flipped = Buffer.from(bytes);
      flipped[flipped.length >> 1]! ^= 1;
      fs.writeFileSync(path.join(tmp, 'model.bin'), flipped);
      expect(() => readCommitted(tmp)).toThrow(/model\.bin: sha256 .* is not the manifest's/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('OnnxEmbedder.load() is the tuned model; the original loads by name and embeds differently', async () => {
    const tuned = await OnnxEmbedder.load();
    const original = await OnnxEmbedder.load({ model: 'use-lite' });
    try {
      expect(tuned.id).toMatch(/^use-lite-cache-q8@/);
      expect(original.id).toMatch(/^use-lite-q8@/);
      expect(tuned.defaultEvaluator?.evaluator).toBe('learned');
      expect(original.defaultEvaluator).toBeUndefined();
      expect(original.defaultThreshold).toBe(0.95);
      const q = 'How do I learn Python quickly?';
      const [a] = await tuned.embed([q]);
      const [b] = await original.embed([q]);
      let d = 0;
      for (let i = 0; i < a!.length; i++) d += a![i]! * b![i]!;
      expect(d).toBeLessThan(0.99);
      // the tuned model normalizes what it embeds: case and spacing do not change its vector
      const [c] = await tuned.embed(['  HOW DO I LEARN   PYTHON QUICKLY?']);
      expect(Array.from(c!)).toEqual(Array.from(a!));
    } finally {
      await tuned.dispose();
      await original.dispose();
    }
  });
});
