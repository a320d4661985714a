// ONNX Runtime's Emscripten glue believes it runs in a web worker and reads self.location.href,
// which workerd does not define. Any URL will do: nothing is ever fetched from it.
if (!globalThis.location) globalThis.location = { href: 'https://worker.invalid/', origin: 'https://worker.invalid' };
