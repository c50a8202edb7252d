// The layers of docs/DESIGN.md, checked against the code: every import in
// src/ points to its own layer or one below it, and no module imports
// itself back through others (a cycle). Type-only imports are erased at
// run time; they count for the layers, not for cycles.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const SRC = resolve(new URL('../../../src', import.meta.url).pathname);
/** docs/DESIGN.md's layers, top to bottom; src/index.ts (the public API) sits above them all. */
const LAYERS = ['cli', 'serving', 'report', 'eval', 'retrieval', 'index', 'train', 'models', 'tokenizers', 'data', 'io', 'engine'];

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Every relative import of a file: static `import`/`export ... from` (type-only marked) and `import('...')`. */
function importsOf(file: string): Edge[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const edges: Edge[] = [];
  const add = (specifier: string, typeOnly: boolean): void => {
    if (!specifier.startsWith('.')) return;
    edges.push({ from: file, to: resolve(dirname(file), specifier.replace(/\.js$/, '.ts')), typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const allTypes = clause !== undefined && (clause.isTypeOnly || (clause.name === undefined && clause.namedBindings !== undefined && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier.text, allTypes);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const allTypes = node.isTypeOnly || (node.exportClause !== undefined && ts.isNamedExports(node.exportClause) && node.exportClause.elements.every((e) => e.isTypeOnly));
      add(node.moduleSpecifier.text, allTypes);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      add(node.arguments[0].text, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

const layerOf = (file: string): number => {
  const top = relative(SRC, file).split('/')[0] as string;
  return top.endsWith('.ts') ? -1 : LAYERS.indexOf(top);
};
const name = (file: string): string => relative(SRC, file);

const files = sourceFiles(SRC);
const edges = files.flatMap(importsOf);

test('every import in src/ points to its own layer or one below it (docs/DESIGN.md)', () => {
  const unknown = files.filter((f) => layerOf(f) === -1 && name(f) !== 'index.ts');
  assert.deepEqual(unknown.map(name), [], 'files outside the layers');
  const upward = edges.filter((e) => layerOf(e.to) < layerOf(e.from)).map((e) => `${name(e.from)} -> ${name(e.to)}`);
  assert.deepEqual(upward, []);
});

test('no import cycle among the modules of src/ (run-time imports, static or dynamic)', () => {
  const graph = new Map<string, string[]>();
  for (const e of edges) if (!e.typeOnly) graph.set(e.from, [...(graph.get(e.from) ?? []), e.to]);
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next].map(name).join(' -> '));
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  assert.ok(edges.length > 200, `read ${edges.length} imports`);
  assert.deepEqual(cycles, []);
});
