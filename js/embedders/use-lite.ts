// The bundled models' names and the original USE lite's calibrated threshold, in a module of
// their own: the edge worker's configuration needs them without pulling ONNX Runtime into the
// remote-embedding bundle.

/** Models that ship in the package (dist/models/NAME), loadable by name. */
export const BUNDLED_MODELS = ['use-lite-cache', 'use-lite'] as const;
export type BundledModel = (typeof BUNDLED_MODELS)[number];

/** What `OnnxEmbedder.load()` loads: USE lite fine-tuned for caching (tools/finetune-encoder). */
export const DEFAULT_MODEL: BundledModel = 'use-lite-cache';

/**
 * The cosine threshold chosen for the original USE lite ('use-lite') by the quality harness
 * (`npm run bench -- quality`): the most right hits on GPTCache's mock_data with at most 2% wrong
 * hits. The tuned default carries its own, calibrated on QQP (its manifest's `threshold`).
 * See docs/quality.md.
 */
export const USE_LITE_THRESHOLD = 0.95;
