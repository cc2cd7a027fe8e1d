/**
 * Cold start of the bundles: how long `import` of a function's module takes
 * in a fresh process (what Lambda waits for before the first invocation),
 * how long until what it loads in the background is loaded too, and where
 * that time goes (a CPU profile, by module).
 *
 * Every process runs with `--enable-source-maps`, as the functions are
 * deployed. The runs of all bundles (this project's and the naive ones) are
 * interleaved, so a machine that gets busier during the section slows them
 * alike and the ratios stay comparable.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { median, round } from './support';

const run = promisify(execFile);

/** One bundle to time: its entry and the environment it imports with. */
export interface ImportCase {
  readonly label: string;
  readonly bundle: string;
  readonly env: NodeJS.ProcessEnv;
}

/** Medians over the runs of one {@link ImportCase}. */
export interface ImportTiming {
  /** Wall time of `await import(index.mjs)`. */
  readonly importMs: number;
  /** Wall time until the chunks it loads in the background are loaded too. */
  readonly readyMs: number;
  /** CPU time (user + system) of the process over the import: less sensitive than wall time to a busy machine. */
  readonly importCpuMs: number;
  readonly readyCpuMs: number;
  /** The chunks loaded after the import (relative to the bundle's folder). */
  readonly background: readonly string[];
}

/** One line of a profile: a module (package or source file) or a part of Node, with its self time. */
export interface ProfileEntry {
  readonly what: string;
  readonly ms: number;
  /** Share of all the samples, 0 to 1. */
  readonly share: number;
}

/** The 1-minute load average, as `uptime` prints it, and the cores it is out of. */
export function load(): { loadAverage: number; cpus: number } {
  return { loadAverage: round(loadavg()[0] ?? 0, 2), cpus: cpus().length };
}

// The secret prefetch has no endpoint and fails; that is not what is measured.
const QUIET = "process.on('unhandledRejection', () => undefined);";

/**
 * The chunks a bundle loads after its import has finished (mysql2, the SDK
 * clients): recorded in one run by the inspector as they are parsed, until
 * nothing more has been parsed for `settleMs`.
 */
async function backgroundChunks(item: ImportCase, settleMs = 400): Promise<string[]> {
  const script = `${QUIET}
    const { Session } = await import('node:inspector/promises');
    const session = new Session(); session.connect();
    const parsed = []; let last = performance.now();
    session.on('Debugger.scriptParsed', ({ params }) => { if (params.url.startsWith('file:')) { parsed.push(params.url); last = performance.now(); } });
    await session.post('Debugger.enable');
    await import(${JSON.stringify(pathToFileURL(item.bundle).href)});
    const imported = parsed.length;
    while (performance.now() - last < ${settleMs}) await new Promise((resolve) => setTimeout(resolve, 50));
    process.stdout.write(JSON.stringify(parsed.slice(imported)), () => process.exit(0));`;
  const { stdout } = await run(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], { env: item.env, maxBuffer: 16 * 1024 * 1024 });
  const dir = path.dirname(item.bundle);
  return (JSON.parse(stdout) as string[])
    .map((url) => fileURLToPath(url))
    .filter((file) => file.startsWith(dir + path.sep))
    .map((file) => path.relative(dir, file));
}

/** The script a timed (or profiled) process runs: import, then the background chunks, each timed. */
function importScript(bundle: string, background: readonly string[], profile: boolean): string {
  const dir = path.dirname(bundle);
  return `${QUIET}
    ${profile ? "const { Session } = await import('node:inspector/promises'); const session = new Session(); session.connect(); await session.post('Profiler.enable'); await session.post('Profiler.setSamplingInterval', { interval: 100 }); await session.post('Profiler.start');" : ''}
    const cpu = process.cpuUsage(); const started = performance.now();
    await import(${JSON.stringify(pathToFileURL(bundle).href)});
    const importMs = performance.now() - started; const importCpu = process.cpuUsage(cpu);
    ${background.map((chunk) => `await import(${JSON.stringify(pathToFileURL(path.join(dir, chunk)).href)});`).join('\n')}
    const readyMs = performance.now() - started; const readyCpu = process.cpuUsage(cpu);
    const profile = ${profile ? "(await session.post('Profiler.stop')).profile" : 'undefined'};
    // Exits once the output is written (a profile is megabytes; process.exit would cut it short).
    process.stdout.write(JSON.stringify({ importMs, readyMs, importCpuMs: (importCpu.user + importCpu.system) / 1000, readyCpuMs: (readyCpu.user + readyCpu.system) / 1000, profile }), () => process.exit(0));`;
}

interface RunResult {
  importMs: number;
  readyMs: number;
  importCpuMs: number;
  readyCpuMs: number;
  profile?: CpuProfile;
}

async function importOnce(item: ImportCase, background: readonly string[], profile: boolean): Promise<RunResult> {
  const { stdout } = await run(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', importScript(item.bundle, background, profile)], {
    env: item.env,
    maxBuffer: 256 * 1024 * 1024,
  });
  return JSON.parse(stdout) as RunResult;
}

/** Times every case `runs` times, the cases interleaved, and returns the medians by label. */
export async function timeImports(cases: readonly ImportCase[], runs: number): Promise<Record<string, ImportTiming>> {
  const background = new Map<string, string[]>();
  for (const item of cases) background.set(item.label, await backgroundChunks(item));
  const samples = new Map<string, RunResult[]>(cases.map((item) => [item.label, []]));
  for (let index = 0; index < runs; index++) {
    for (const item of cases) samples.get(item.label)?.push(await importOnce(item, background.get(item.label) ?? [], false));
  }
  return Object.fromEntries(
    cases.map((item) => {
      const runsOf = samples.get(item.label) ?? [];
      const of = (key: keyof Omit<RunResult, 'profile'>) => round(median(runsOf.map((sample) => sample[key])), 1);
      return [
        item.label,
        {
          importMs: of('importMs'),
          readyMs: of('readyMs'),
          importCpuMs: of('importCpuMs'),
          readyCpuMs: of('readyCpuMs'),
          background: background.get(item.label) ?? [],
        },
      ];
    }),
  );
}

/** A V8 CPU profile, as the inspector returns it. */
interface CpuProfile {
  readonly nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number } }[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

/** Node's work of loading modules: resolving, reading, linking (by function, when the frame has no URL). */
const MODULE_LOADING = /^node:internal\/(modules|url|fs)|^node:(fs|path|url)$/;
const NATIVE_FILE_CALLS = new Set(['openFileHandle', 'readFileUtf8', 'realpathSync', 'internalModuleStat', 'fstat', 'read', 'close', 'open', 'stat', 'lstat']);

/** What a sample's frame is charged to: a package, a source file of the project, or a part of Node's work. */
function chargedTo(frame: CpuProfile['nodes'][number]['callFrame'], sourceMaps: Map<string, SourceMap | undefined>): string | undefined {
  if (frame.url === 'node:inspector' || frame.functionName === '(idle)' || frame.functionName === '(root)' || frame.functionName === 'cpuUsage')
    return undefined;
  if (frame.functionName === '(garbage collector)') return 'garbage collection';
  if (frame.functionName === 'compileSourceTextModule' || frame.functionName === 'compileFunction') return 'compiling modules (V8 parse)';
  if (frame.url.startsWith('node:internal/source_map')) return 'source maps (--enable-source-maps)';
  if (['compileForInternalLoader', 'internalBinding', 'requireBuiltin'].includes(frame.functionName)) return 'Node built-in modules';
  if (MODULE_LOADING.test(frame.url) || (!frame.url && NATIVE_FILE_CALLS.has(frame.functionName))) return 'Node module loading (resolve, read, link)';
  if (frame.url.startsWith('node:')) return 'other Node internals';
  if (!frame.url.startsWith('file:')) return `(${frame.functionName.replace(/^\(|\)$/g, '') || 'native'})`;
  if (!sourceMaps.has(frame.url)) {
    const file = fileURLToPath(frame.url);
    sourceMaps.set(frame.url, existsSync(`${file}.map`) ? new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as SourceMapPayload) : undefined);
  }
  const source = sourceMaps.get(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber);
  const original = source && 'originalSource' in source ? source.originalSource : undefined;
  // Frames without a mapping: esbuild's helpers, where a CommonJS module's body is compiled when it first runs.
  if (!original) return "esbuild's CommonJS wrappers (compiling the modules they run)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(original);
  if (pkg) return pkg[1];
  return original.replace(/^(?:\.\.\/)+/, '');
}

/**
 * Where the import and the background loads of a bundle spend their time:
 * self time by module (through the bundle's source maps) or part of Node,
 * summed over `runs` profiled runs, the `top` largest.
 */
export async function profileImport(item: ImportCase, background: readonly string[], runs: number, top: number): Promise<ProfileEntry[]> {
  const totals = new Map<string, number>();
  let all = 0;
  const sourceMaps = new Map<string, SourceMap | undefined>();
  for (let index = 0; index < runs; index++) {
    const { profile } = await importOnce(item, background, true);
    if (!profile) continue;
    const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
    profile.samples.forEach((id, sample) => {
      const frame = frames.get(id);
      const what = frame && chargedTo(frame, sourceMaps);
      if (!what) return;
      const micros = profile.timeDeltas[sample] ?? 0;
      totals.set(what, (totals.get(what) ?? 0) + micros);
      all += micros;
    });
  }
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([what, micros]) => ({ what, ms: round(micros / runs / 1000, 1), share: round(micros / all, 3) }));
}
