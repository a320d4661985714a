// bindings/semcache_core.d.ts is written by hand (Emscripten 3.1.6 cannot emit it). This test
// keeps it honest: every bound class, method and static function must be declared, and every
// declared one must exist in the module.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';
import { loadModule, root } from './helpers.js';

const EMBIND_BUILTINS = new Set(['BindingError', 'InternalError', 'UnboundTypeError']);

type Decl = { methods: string[]; props: Map<string, string>; extends: string[] };

/** Every interface in bindings/*.d.ts, with the members it inherits through `extends`. */
function declarations() {
  const interfaces = new Map<string, Decl>();
  const dir = path.join(root, 'bindings');
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.d.ts'))) {
    const sf = ts.createSourceFile(f, fs.readFileSync(path.join(dir, f), 'utf8'), ts.ScriptTarget.ES2022, true);
    sf.forEachChild((node) => {
      if (!ts.isInterfaceDeclaration(node)) return;
      const d: Decl = { methods: [], props: new Map(), extends: [] };
      for (const h of node.heritageClauses ?? []) for (const t of h.types) d.extends.push(t.expression.getText(sf));
      for (const m of node.members) {
        if (ts.isMethodSignature(m)) d.methods.push(m.name.getText(sf));
        else if (ts.isPropertySignature(m)) d.props.set(m.name.getText(sf), m.type?.getText(sf) ?? '');
      }
      interfaces.set(node.name.text, d);
    });
  }
  const flatten = (name: string): Decl => {
    const d = interfaces.get(name);
    if (!d) return { methods: [], props: new Map(), extends: [] };
    const out: Decl = { methods: [...d.methods], props: new Map(d.props), extends: [] };
    for (const base of d.extends) {
      const b = flatten(base);
      out.methods.push(...b.methods);
      for (const [k, v] of b.props) out.props.set(k, v);
    }
    return out;
  };
  return new Map([...interfaces.keys()].map((k) => [k, flatten(k)]));
}

it('the module .d.ts matches the Embind bindings', async () => {
  const M = (await loadModule()) as unknown as Record<string, unknown>;
  const decl = declarations();
  const mod = decl.get('SemcacheCoreModule')!;
  const declaredMembers = [...mod.props.keys(), ...mod.methods];
  for (const name of declaredMembers) expect(M[name], `module member ${name}`).toBeDefined();

  const boundClasses = Object.keys(M).filter(
    (k) => /^[A-Z]/.test(k) && typeof M[k] === 'function' && !EMBIND_BUILTINS.has(k),
  );
  expect(boundClasses.length).toBeGreaterThan(0);
  for (const cls of boundClasses) {
    expect(mod.props.has(cls), `class ${cls} is bound but not declared in SemcacheCoreModule`).toBe(true);
    const ctorType = decl.get(mod.props.get(cls)!);
    expect(ctorType, `interface ${mod.props.get(cls)}`).toBeDefined();
    const staticBound = Object.getOwnPropertyNames(M[cls]).filter((n) => !['length', 'name', 'prototype', 'argCount'].includes(n));
    expect(ctorType!.methods.sort()).toEqual(staticBound.sort());
    const instanceType = decl.get(cls);
    expect(instanceType, `interface ${cls}`).toBeDefined();
    const proto = (M[cls] as { prototype: object }).prototype;
    const bound = Object.getOwnPropertyNames(proto).filter((n) => n !== 'constructor');
    // delete() comes from Embind's ClassHandle base; it is declared so users can free objects.
    expect(instanceType!.methods.filter((n) => n !== 'delete').sort()).toEqual(bound.sort());
    expect(typeof (proto as { delete?: unknown }).delete).toBe('function');
  }
});
