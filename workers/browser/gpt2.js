// The GPT-2 worker for pages served from this repository (the web demo; `npm start` serves this
// folder at /workers/). Its source is js/workers/gpt2-worker.ts, compiled with the rest of the
// package into dist/ so that the npm package carries it too. Pass
// `worker: new Worker('/workers/gpt2.js', {type: 'module'})` to Gpt2.load, or `worker: true` to
// let the package locate dist/workers/gpt2-worker.js next to itself.
import '../../dist/workers/gpt2-worker.js';
