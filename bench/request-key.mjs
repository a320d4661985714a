#!/usr/bin/env node
// What the cache key costs per request, on the hit path of the server and the edge worker:
//  - request_key_us: requestKey() of a chat body with a system prompt and one earlier turn (one
//    SHA-256 over the conversation), and of a bare one-message body (no hash);
//  - credential_hmac_us: the HMAC of a pass-through client's credential (docs/security.md,
//    "Pass-through auth"), with the key imported once as the handler does.
// Each figure is the median of 7 rounds of N calls, after a warm-up round.
//   node bench/request-key.mjs [--n 20000]
import { hmacHex, importHmacKey } from '../dist/llm/canonical.js';
import { requestKey } from '../dist/llm/request-key.js';

const i = process.argv.indexOf('--n');
const N = i > 0 ? Number(process.argv[i + 1]) : 20_000;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function perCall(f) {
  const rounds = [];
  for (let r = 0; r < 8; r++) {
    const t = performance.now();
    for (let k = 0; k < N; k++) await f(k);
    if (r) rounds.push(((performance.now() - t) * 1000) / N);  // round 0 warms up
  }
  return Math.round(median(rounds) * 100) / 100;
}

const conversation = {
  model: 'gpt-4o-mini',
  temperature: 0.2,
  max_tokens: 256,
  messages: [
    { role: 'system', content: 'You are a helpful assistant for the ACME help desk. Answer in two sentences.' },
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: 'Hello! How can I help?' },
    { role: 'user', content: 'How do I reset my password?' },
  ],
};
const bare = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'How do I reset my password?' }] };
const key = await importHmacKey('bench-credential-key');

const result = {
  request_key_us: await perCall(() => requestKey('chat', conversation, { tenant: 't' })),
  request_key_bare_us: await perCall(() => requestKey('chat', bare, { tenant: 't' })),
  credential_hmac_us: await perCall((k) => hmacHex(key, `Bearer sk-client-${k % 16}\n\n`)),
  n: N,
};
console.log(JSON.stringify(result));
