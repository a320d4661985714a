// The OPFS cache worker for pages served from this repository (the web demo; `npm start` serves
// this folder at /workers/). Its source is js/workers/opfs-worker.ts, compiled with the rest of
// the package into dist/ so that the npm package carries it too. Pass this file as `workerUrl`
// to SemanticCache.open({storage: 'opfs', ...}), or let the package locate
// dist/workers/opfs-worker.js next to itself (the default).
import '../../dist/workers/opfs-worker.js';
