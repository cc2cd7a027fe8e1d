/**
 * The shape the code keeps (issues "A house you can read", "A house others
 * copy"): layers that only point down (config at the bottom, handlers on it,
 * the local runtime on top and apart from the handlers and the clients), no
 * import cycle counting type imports, and a local runtime whose parts stay
 * small enough to read. Read from the sources with the TypeScript parser.
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SOURCE_DIRS = ['config', 'handlers', 'stacks', 'analysis', 'local', 'clients', 'scripts', 'bench', 'asl'];

function sourceFiles(dir: string): string[] {
  const full = path.join(ROOT, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full).flatMap((name) => {
    const child = path.join(dir, name);
    if (statSync(path.join(ROOT, child)).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(child);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [child] : [];
  });
}

function parse(file: string, text: string = readFileSync(path.join(ROOT, file), 'utf8')): ts.SourceFile {
  return ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
}

/**
 * The project files a file imports, as a structural reader counts them:
 * type-only imports and re-exports included (a module that names another's
 * types depends on it as much as one that calls it: the base that imports
 * its implementations' types knows them).
 */
function imports(file: string, text?: string): string[] {
  const found: string[] = [];
  for (const statement of parse(file, text).statements) {
    const specifier = ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement) ? statement.moduleSpecifier : undefined;
    if (!specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) continue;
    const base = path.join(path.dirname(file), specifier.text).replace(/\.(js|ts)$/, '');
    const target = [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => existsSync(path.join(ROOT, candidate)));
    if (target) found.push(target);
  }
  return found;
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

/** The most a stack constructor may hold (the 80 lines, as laid out by Prettier). */
const LIMIT = { lines: 80, statements: 30 };

/**
 * Constructors of stack classes (a class extending a `...Stack`) of more than
 * `limit.lines` lines as Prettier lays them out, or more than
 * `limit.statements` statements however they are laid out, as
 * `file:line Class (n lines, m statements)`.
 */
function longStackConstructors(file: string, limit: { lines: number; statements: number }, text?: string): string[] {
  const source = parse(file, text);
  const long: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isClassDeclaration(node) && node.heritageClauses?.some((clause) => clause.types.some((type) => /Stack$/.test(type.expression.getText())))) {
      for (const member of node.members) {
        if (!ts.isConstructorDeclaration(member) || !member.body) continue;
        const start = source.getLineAndCharacterOfPosition(member.getStart()).line;
        const lines = source.getLineAndCharacterOfPosition(member.getEnd()).line - start + 1;
        const statements = member.body.statements.length;
        if (lines > limit.lines || statements > limit.statements)
          long.push(`${file}:${start + 1} ${node.name?.getText() ?? '<class>'} (${lines} lines, ${statements} statements)`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return long;
}

/** The imports of files under `from` that land under one of `forbidden`, as `file → target`. */
function crossings(graph: Map<string, string[]>, from: string, forbidden: readonly string[]): string[] {
  return [...graph]
    .filter(([file]) => file.startsWith(`${from}/`))
    .flatMap(([file, targets]) =>
      targets.filter((target) => forbidden.some((folder) => target.startsWith(`${folder}/`))).map((target) => `${file} → ${target}`),
    );
}

describe('the shape of the code', () => {
  const files = SOURCE_DIRS.flatMap(sourceFiles);
  const graph = new Map(files.map((file) => [file, imports(file)]));

  it('has no import cycle, type imports included', () => {
    expect(files.length).toBeGreaterThan(80);
    expect(cycles(graph).map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('counts type-only imports and re-exports as edges, so a cycle they close is found', () => {
    // Prepare: a file of local/ that names the types of two others, and a graph where one names it back.
    const text = "import type { TerraformModel } from './terraform';\nimport { type Principal } from './iam';\nexport type { Binding } from './service';\n";

    // Act
    const edges = imports('local/sample.ts', text);
    const found = cycles(
      new Map([
        ['local/sample.ts', edges],
        ['local/terraform.ts', ['local/sample.ts']],
      ]),
    );

    // Assess
    expect(edges).toEqual(['local/terraform.ts', 'local/iam.ts', 'local/service.ts']);
    expect(found).toEqual([['local/sample.ts', 'local/terraform.ts', 'local/sample.ts']]);
  });

  it('keeps config at the bottom: nothing in config/ imports handlers/, stacks/, analysis/, local/ or clients/', () => {
    expect(crossings(graph, 'config', ['handlers', 'stacks', 'analysis', 'local', 'clients'])).toEqual([]);
  });

  it('keeps stacks/ to synthesizing: nothing in stacks/ imports analysis/, local/, clients/, scripts/ or bench/', () => {
    expect(files.filter((file) => file.startsWith('analysis/')).length).toBeGreaterThan(3);
    expect(crossings(graph, 'stacks', ['analysis', 'local', 'clients', 'scripts', 'bench'])).toEqual([]);
  });

  it('keeps analysis/ beside the stacks: it reads what they synthesize and is read only by the CLIs, the bench and tests', () => {
    expect(crossings(graph, 'analysis', ['local', 'clients', 'scripts', 'bench'])).toEqual([]);
    const readers = ['config', 'handlers', 'stacks', 'local', 'clients', 'asl'];
    expect(readers.flatMap((layer) => crossings(graph, layer, ['analysis']))).toEqual([]);
  });

  it('keeps handlers/ free of stacks/, analysis/, local/ and clients/', () => {
    expect(crossings(graph, 'handlers', ['stacks', 'analysis', 'local', 'clients'])).toEqual([]);
  });

  it('keeps local/ free of handlers/ and clients/: what both need sits in config/', () => {
    expect(crossings(graph, 'local', ['handlers', 'clients', 'analysis', 'scripts', 'bench'])).toEqual([]);
  });

  it("keeps local/service.ts, the services' shared types, free of every service module", () => {
    // The service modules: what local/services.ts imports, less the types it names.
    const services = imports('local/services.ts').filter((file) => file !== 'local/service.ts');
    expect(services.length).toBeGreaterThan(10);
    expect(imports('local/service.ts').filter((file) => services.includes(file))).toEqual([]);
  });

  it('imports provider bindings by their resource, never a provider package whole (its barrel loads every binding: synth ~8× slower)', () => {
    const barrels = [...SOURCE_DIRS, '__tests__']
      .flatMap(sourceFiles)
      .concat(['main.ts', 'bootstrap.ts'])
      .flatMap((file) =>
        parse(file)
          .statements.filter(
            (statement): statement is ts.ImportDeclaration | ts.ExportDeclaration => ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement),
          )
          .map((statement) => statement.moduleSpecifier)
          .filter(
            (specifier): specifier is ts.StringLiteral =>
              specifier !== undefined && ts.isStringLiteral(specifier) && /^@(cdktf|cdktn)\/provider-[a-z0-9-]+(\/lib)?\/?$/.test(specifier.text),
          )
          .map((specifier) => `${file}: ${specifier.text}`),
      );
    expect(barrels).toEqual([]);
  });

  it('keeps every stack constructor at 80 lines and 30 statements or fewer: a stack reads as the list of what it holds', () => {
    const stacks = files.filter((file) => file.startsWith('stacks/') && file.endsWith('-stack.ts'));
    expect(stacks.length).toBeGreaterThanOrEqual(6);
    expect(stacks.flatMap((file) => longStackConstructors(file, LIMIT))).toEqual([]);
  });

  it('finds a stack constructor over 30 statements however it is laid out, and one over 80 lines', () => {
    // Prepare: a stack whose constructor holds 31 statements, one of them over several lines.
    const text = `class LongStack extends PipelineStack {\n  constructor() {\n    new Thing({\n      a: 1,\n      b: 2,\n    });\n${'    statement();\n'.repeat(30)}  }\n}\n`;

    // Act
    const found = longStackConstructors('stacks/long-stack.ts', LIMIT, text);
    const tall = `class TallStack extends PipelineStack {\n  constructor() {\n    new Thing({\n${'      a: 1,\n'.repeat(77)}    });\n  }\n}\n`;

    // Assess
    expect(found).toEqual(['stacks/long-stack.ts:2 LongStack (36 lines, 31 statements)']);
    expect(longStackConstructors('stacks/tall-stack.ts', LIMIT, tall)).toEqual(['stacks/tall-stack.ts:2 TallStack (81 lines, 1 statements)']);
  });

  it('keeps the local runtime a short loop over its services, and no function in local/ over 80 lines', () => {
    expect(readFileSync(path.join(ROOT, 'local/runtime.ts'), 'utf8').split('\n').length).toBeLessThanOrEqual(250);
    expect(files.filter((file) => file.startsWith('local/')).flatMap((file) => longFunctions(file, 80))).toEqual([]);
  });
});
