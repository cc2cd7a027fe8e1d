/**
 * The shape the code keeps (issue "A house you can read"): config at the
 * bottom, no import cycle, and a local runtime whose parts stay small enough
 * to read. Read from the sources with the TypeScript parser.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SOURCE_DIRS = ['config', 'handlers', 'stacks', 'local', 'clients', 'scripts', 'bench', 'asl'];

function sourceFiles(dir: string): string[] {
  const full = path.join(ROOT, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full).flatMap((name) => {
    const child = path.join(dir, name);
    if (statSync(path.join(ROOT, child)).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(child);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [child] : [];
  });
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(path.join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
}

/** The project files a file imports at run time (type-only imports and exports left out). */
function runtimeImports(file: string): string[] {
  const imports: string[] = [];
  for (const statement of parse(file).statements) {
    let specifier: ts.Expression | undefined;
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      const typeOnly = clause && (clause.isTypeOnly || (!clause.name && clause.namedBindings && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.every((element) => element.isTypeOnly)));
      if (!typeOnly) specifier = statement.moduleSpecifier;
    } else if (ts.isExportDeclaration(statement) && !statement.isTypeOnly) {
      specifier = statement.moduleSpecifier;
    }
    if (!specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) continue;
    const base = path.join(path.dirname(file), specifier.text).replace(/\.(js|ts)$/, '');
    const target = [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => existsSync(path.join(ROOT, candidate)));
    if (target) imports.push(target);
  }
  return imports;
}

/** The cycles of a graph, each as the path that closes it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

/** Functions (declarations, methods, arrows) longer than `limit` lines. */
function longFunctions(file: string, limit: number): string[] {
  const source = parse(file);
  const long: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const name = 'name' in node && node.name ? (node.name as ts.Node).getText() : '<anonymous>';
      if (end - start + 1 > limit) long.push(`${file}:${start + 1} ${name} (${end - start + 1} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return long;
}

describe('the shape of the code', () => {
  const files = SOURCE_DIRS.flatMap(sourceFiles);
  const graph = new Map(files.map((file) => [file, runtimeImports(file)]));

  it('has no import cycle', () => {
    expect(files.length).toBeGreaterThan(80);
    expect(cycles(graph).map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('keeps config at the bottom: nothing in config/ imports handlers/, stacks/ or local/', () => {
    const upward = [...graph].filter(([file]) => file.startsWith('config/')).flatMap(([file, imports]) => imports.filter((target) => /^(handlers|stacks|local)\//.test(target)).map((target) => `${file} → ${target}`));
    expect(upward).toEqual([]);
  });

  it('keeps handlers/ free of stacks/ and local/', () => {
    const outward = [...graph].filter(([file]) => file.startsWith('handlers/')).flatMap(([file, imports]) => imports.filter((target) => /^(stacks|local)\//.test(target)).map((target) => `${file} → ${target}`));
    expect(outward).toEqual([]);
  });

  it('imports provider bindings by their resource, never a provider package whole (its barrel loads every binding: synth ~8× slower)', () => {
    const barrels = [...SOURCE_DIRS, '__tests__']
      .flatMap(sourceFiles)
      .concat(['main.ts', 'bootstrap.ts'])
      .flatMap((file) =>
        parse(file)
          .statements.filter((statement): statement is ts.ImportDeclaration | ts.ExportDeclaration => ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement))
          .map((statement) => statement.moduleSpecifier)
          .filter((specifier): specifier is ts.StringLiteral => specifier !== undefined && ts.isStringLiteral(specifier) && /^@(cdktf|cdktn)\/provider-[a-z0-9-]+(\/lib)?\/?$/.test(specifier.text))
          .map((specifier) => `${file}: ${specifier.text}`),
      );
    expect(barrels).toEqual([]);
  });

  it('keeps the local runtime a short loop over its services, and no function in local/ over 80 lines', () => {
    expect(readFileSync(path.join(ROOT, 'local/runtime.ts'), 'utf8').split('\n').length).toBeLessThanOrEqual(250);
    expect(files.filter((file) => file.startsWith('local/')).flatMap((file) => longFunctions(file, 80))).toEqual([]);
  });
});
