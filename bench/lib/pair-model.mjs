// The pair model at run time, for the quality bench: a cross-encoder that reads a query and a
// cached question together (tools/finetune-encoder/train_pair.py, converted by the build into
// build/models/pair). Its graph is USE lite's (the first layer, fine-tuned on
// "query </s> candidate"), run by the same ONNX Runtime session code as the embedder; a
// logistic classifier over its pooled output, kept in the manifest, gives the probability that
// both ask the same thing. Not part of the package: it ranks worse than the default (see
// docs/quality.md).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export class PairModel {
  constructor(session, M, tok, head, id) {
    Object.assign(this, { session, M, tok, head, id });
  }

  static async load({ dir = path.join(root, 'build/models/pair'), dtype = 'q8' } = {}) {
    const { OnnxEmbeddingSession } = await import(path.join(root, 'dist/embedders/onnx-session.js'));
    const { default: create } = await import(path.join(root, 'dist/wasm/semcache_core.mjs'));
    const M = await create({ wasmBinary: fs.readFileSync(path.join(root, 'dist/wasm/semcache_core.wasm')) });
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    if (manifest.format !== 'semcache-onnx-model' || !manifest.pair) throw new Error(`${dir}/manifest.json is not a pair model`);
    const file = dtype === 'q8' ? manifest.variants.q8 : manifest.model;
    const session = await OnnxEmbeddingSession.create({ model: fs.readFileSync(path.join(dir, file.file)), expectedSha256: file.sha256 });
    const tok = new M.SentencePieceTokenizer(fs.readFileSync(path.join(dir, 'vocab.json'), 'utf8'));
    return new PairModel(session, M, tok, manifest.pair, `${manifest.name}@${file.sha256.slice(0, 12)}`);
  }

  /** The probability threshold calibrated on the QQP calib part for a false-hit rate. */
  thresholdFor(falseHitRate) {
    const c = this.head.calibration.slice().sort((a, b) => a.falseHitRate - b.falseHitRate);
    return (c.find((r) => r.falseHitRate >= falseHitRate) ?? c.at(-1)).threshold;
  }

  /** P(query and cached ask the same thing); both normalized first, as in training. */
  async score(query, cached) {
    const ids = (t) => Array.from(this.tok.encode(this.M.normalizePrompt(t), this.head.sideTokens));
    const [e] = await this.session.embed([[...ids(query), this.head.separator, ...ids(cached)]]);
    let z = this.head.bias;
    for (let i = 0; i < e.length; i++) z += e[i] * this.head.weight[i];
    return 1 / (1 + Math.exp(-z));
  }

  async dispose() {
    this.tok.delete();
    await this.session.release();
  }
}
