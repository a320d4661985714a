// semcache in a strict TypeScript project: the snippets of README.md, docs/install.md and
// the README adapter snippets (with the SDKs they use) as .ts files, compiled with `tsc --noEmit` under moduleResolution "bundler" and "node16", with the
// package's own .d.ts checked too (skipLibCheck off).
import { beforeAll, describe, expect, it } from 'vitest';
import { devVersion, project, snippet, tryRun } from './helpers.js';

const compilerOptions = {
  strict: true,
  noEmit: true,
  target: 'ES2022',
  lib: ['ES2022', 'DOM', 'DOM.Iterable'],
  types: ['node'],
  skipLibCheck: false,
};
const tsconfig = (module: string, moduleResolution: string) => JSON.stringify({ compilerOptions: { ...compilerOptions, module, moduleResolution }, include: ['src'] }, null, 2);

const files = {
  'tsconfig.bundler.json': tsconfig('ESNext', 'Bundler'),
  'tsconfig.node16.json': tsconfig('Node16', 'Node16'),
  // the snippets' one placeholder: the caller's LLM
  'src/globals.d.ts': 'declare function callMyLLM(prompt: string): Promise<string>;\n',
  'src/node.ts': snippet('node'),
  'src/node-file.ts': snippet('node-file'),
  'src/browser.ts': snippet('vite'),
  // the worker snippet is JavaScript (its class fields are untyped); its entry's types are checked here
  'src/edge.ts': "import { createEdgeFetch, edgeConfig, type EdgeEnv } from 'semcache/edge';\nexport const fetchHandler = createEdgeFetch();\nexport const config = (env: EdgeEnv) => edgeConfig(env);\n",
  // the SDK adapters (the README snippets), against the SDKs' own types
  'src/openai.ts': `${snippet('openai')}\nexport {};\n`,
  'src/ai-sdk.ts': `${snippet('ai-sdk')}\nexport {};\n`,
  'src/langchain.ts': `${snippet('langchain')}\nexport {};\n`,
};
/** The optional peers the adapters' snippets use, at the versions this repository tests (the AI
 * SDK's own .d.ts needs @types/json-schema, which it does not install). */
const SDKS = ['openai', 'ai', '@ai-sdk/openai', '@langchain/core', '@langchain/openai', '@types/json-schema'];

describe('TypeScript consumer (strict)', () => {
  let dir: string;
  beforeAll(() => {
    dir = project('typescript', {
      pkg: { devDependencies: { typescript: devVersion('typescript'), '@types/node': devVersion('@types/node'), ...Object.fromEntries(SDKS.map((p) => [p, devVersion(p)])) } },
      files,
    });
  });
  for (const resolution of ['bundler', 'node16']) {
    it(`compiles the snippets with moduleResolution ${resolution}`, () => {
      const r = tryRun(process.execPath, ['node_modules/typescript/bin/tsc', '-p', `tsconfig.${resolution}.json`], { cwd: dir });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  }
});
