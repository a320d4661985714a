// bindings/semcache_core.d.ts is written by hand (Emscripten 3.1.6 cannot emit it). This test
// keeps it honest: every bound class, method and static function must be declared, and every
// declared one must exist in the module.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';
import { loadModule, root } from './helpers.js';

const EMBIND_BUILTINS = new Set(['BindingError', 'InternalError', 'UnboundTypeError']);

function declarations() {
  const file = path.join(root, 'bindings/semcache_core.d.ts');
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const interfaces = new Map<string, { methods: string[]; props: Map<string, string>; hasNew: boolean }>();
  sf.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node)) return;
    const methods: string[] = [];
    const props = new Map<string, string>();
    let hasNew = false;
    for (const m of node.members) {
      if (ts.isConstructSignatureDeclaration(m)) hasNew = true;
      else if (ts.isMethodSignature(m)) methods.push(m.name.getText(sf));
      else if (ts.isPropertySignature(m)) props.set(m.name.getText(sf), m.type?.getText(sf) ?? '');
    }
    interfaces.set(node.name.text, { methods, props, hasNew });
  });
  return interfaces;
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
