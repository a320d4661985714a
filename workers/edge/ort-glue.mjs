// ONNX Runtime's glue, as workerd can run it. ORT imports its Emscripten glue by name
// (env.wasm.wasmPaths.mjs names this module) and hands it only the wasm's bytes, which workerd
// refuses to compile at run time; this factory gives the glue the module workerd compiled at
// load (instantiateWasm) instead.
import './ort-shim.mjs';
import glue from '../../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.mjs';
import ortModule from '../../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm';

/** ORT's wasm memory once instantiated (tests measure its size). */
export let wasmMemory;

export default function factory(options) {
  const { wasmBinary, ...rest } = options;
  return glue({
    ...rest,
    locateFile: (path) => path,
    instantiateWasm(imports, done) {
      WebAssembly.instantiate(ortModule, imports).then((instance) => {
        const all = [...Object.values(instance.exports), ...Object.values(imports).flatMap((m) => Object.values(m))];
        wasmMemory = all.find((x) => x instanceof WebAssembly.Memory);
        done(instance, ortModule);
      });
      return {};
    },
  });
}
