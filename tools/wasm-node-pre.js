// --pre-js for wasm programs run under Node (benchmarks): hand the glue the .wasm bytes, since
// Emscripten 3.1.6's glue tries fetch() on a file path in Node >= 18.
Module['wasmBinary'] = require('fs').readFileSync(__filename.replace(/\.c?js$/, '.wasm'));
