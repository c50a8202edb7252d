// The NativeAddon interface (src/engine/native.ts) is written by hand beside
// the registrations in native/src/*.cc (exports.Set, DefTensorOp and the
// BINARY/UNARY macros): it must name exactly the functions the built addon
// registers when it loads.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import ts from 'typescript';
import { native } from '../../src/engine/native.js';

const root = new URL('../../../', import.meta.url);

/** The member names of `interface NativeAddon` in src/engine/native.ts, read with the TypeScript parser. */
function interfaceMembers(): Set<string> {
  const path = new URL('src/engine/native.ts', root);
  const source = ts.createSourceFile(path.pathname, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest);
  const members = new Set<string>();
  source.forEachChild((node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === 'NativeAddon') {
      for (const m of node.members) if (m.name && ts.isIdentifier(m.name)) members.add(m.name.text);
    }
  });
  return members;
}

const missingFrom = (a: Set<string>, b: Set<string>): string[] => [...a].filter((x) => !b.has(x)).sort();

test('the NativeAddon interface and the functions the built addon registers are the same set', () => {
  const declared = interfaceMembers();
  const registered = new Set(Object.keys(native));
  assert.ok(declared.size > 100, `read ${declared.size} interface members`);
  assert.deepEqual(missingFrom(declared, registered), [], 'declared in NativeAddon but not registered by the addon (rebuild it?)');
  assert.deepEqual(missingFrom(registered, declared), [], 'registered by the addon but not declared in NativeAddon');
});
