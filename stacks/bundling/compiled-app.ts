/**
 * Compiles a TypeScript entry point of the tools (the cdktf app, `main.ts`)
 * into one ES module that plain Node runs, so `npm run synth` does not pay
 * for a TypeScript loader on every run: the loader transforms each source
 * file and sits in front of every `require` of cdktf and the provider
 * bindings (about half of a synth's CPU time). `scripts/compiled.mjs` runs
 * the compiled module, compiling it again only when one of its inputs
 * changed. It imports nothing but Node and esbuild: the launcher compiles
 * this file alone (esbuild's transform) to run it, with no TypeScript loader.
 *
 * The project's sources are bundled; packages stay where they are (external,
 * by their resolved file, so Node loads exactly what the loader did). Each
 * source keeps its own `import.meta.url`, so paths it resolves relative to
 * itself (the ASL template, the migrations, `dist/`) are unchanged. The
 * source map points stack traces at the TypeScript.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, transform, type Plugin } from 'esbuild';

/** What `scripts/compiled.mjs` checks before it runs a compiled entry point. */
export interface CompiledInputs {
  /** The entry point, relative to the repository root. */
  readonly entry: string;
  /** SHA-256 of every file the compiled module was made from, by path relative to the root. */
  readonly files: Readonly<Record<string, string>>;
}

/** Files that change how the sources compile, besides the sources themselves. */
const COMPILER_INPUTS = ['stacks/bundling/compiled-app.ts', 'tsconfig.json', 'package-lock.json'];

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/**
 * Every project source gets its own `import.meta.url` (a bundle has one URL
 * for all of them); any other `import.meta` property is refused, so a source
 * cannot quietly resolve something relative to the bundle.
 */
const UNSUPPORTED_IMPORT_META = '__import_meta_beyond_url__';
const ownImportMetaUrl = (root: string): Plugin => ({
  name: 'own-import-meta-url',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const { code } = await transform(source, {
        loader: 'ts',
        sourcefile: args.path,
        sourcemap: 'inline',
        define: { 'import.meta.url': JSON.stringify(pathToFileURL(args.path).href), 'import.meta': UNSUPPORTED_IMPORT_META },
      });
      if (code.includes(UNSUPPORTED_IMPORT_META)) {
        throw new Error(`${path.relative(root, args.path)} uses import.meta beyond import.meta.url, which the compiled app does not provide`);
      }
      return { contents: code, loader: 'js' };
    });
  },
});

/**
 * Packages stay external, imported by the file Node's own resolution picks
 * (a deep import such as `@cdktf/provider-aws/lib/lambda-function` is a folder,
 * which an ES module cannot import by name).
 */
const packagesByResolvedFile: Plugin = {
  name: 'packages-by-resolved-file',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith('node:') || args.pluginData === 'resolving') return undefined;
      const resolved = await pluginBuild.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'resolving' });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      if (!resolved.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      return { path: pathToFileURL(resolved.path).href, external: true };
    });
  },
};

/**
 * Compiles `entry` (relative to the repository `root`) into `outDir/app.mjs` (with its source map) and writes
 * `outDir/inputs.json` ({@link CompiledInputs}) last, each through a
 * temporary file, so a concurrent run reads either the old files or the new.
 */
export async function compileApp(root: string, entry: string, outDir: string): Promise<CompiledInputs> {
  await mkdir(outDir, { recursive: true });
  const suffix = `.${process.pid}.tmp`;
  const outfile = path.join(outDir, 'app.mjs');
  const result = await build({
    absWorkingDir: root,
    entryPoints: [path.resolve(root, entry)],
    outfile: outfile + suffix,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // As Node resolves a package without an exports map: its main field.
    mainFields: ['main'],
    sourcemap: 'linked',
    sourcesContent: false,
    metafile: true,
    logLevel: 'warning',
    plugins: [packagesByResolvedFile, ownImportMetaUrl(root)],
  });
  const sources = Object.keys(result.metafile.inputs).filter((input) => !input.includes(':'));
  const files: Record<string, string> = {};
  for (const file of [...new Set([...sources, ...COMPILER_INPUTS])].sort()) files[file] = sha256(await readFile(path.join(root, file)));
  const inputs: CompiledInputs = { entry: path.relative(root, path.resolve(root, entry)), files };
  // The source map is named after the file it maps: rename both, and point the module at the final name.
  const code = (await readFile(outfile + suffix, 'utf8')).replace(
    `//# sourceMappingURL=${path.basename(outfile + suffix)}.map`,
    `//# sourceMappingURL=${path.basename(outfile)}.map`,
  );
  await writeFile(outfile + suffix, code);
  await rename(`${outfile}${suffix}.map`, `${outfile}.map`);
  await rename(outfile + suffix, outfile);
  await writeFile(path.join(outDir, `inputs.json${suffix}`), `${JSON.stringify(inputs, null, 2)}\n`);
  await rename(path.join(outDir, `inputs.json${suffix}`), path.join(outDir, 'inputs.json'));
  return inputs;
}
