/**
 * `npm run compat:cdktn`: proves the way off the archived CDK for Terraform.
 *
 * In a temporary folder, outside this project's node_modules, it installs CDK
 * Terrain (`cdktn`, `@cdktn/provider-aws`), copies the app's sources with the
 * imports rewritten (`cdktf` → `cdktn`, `@cdktf/provider-aws` → `@cdktn/provider-aws`),
 * synthesizes every environment with both, and compares each stack's
 * `cdk.tf.json` resource by resource. Every difference is listed; it exits 1
 * on any beyond provider version metadata.
 *
 *   npm run compat:cdktn                 every environment
 *   npm run compat:cdktn -- --keep       keep the temporary folder (its path is printed)
 *   npm run compat:cdktn -- --env dev    one environment
 *
 * `@cdktf/provider-null` has no CDK Terrain build on npm: its prebuilt
 * bindings (jsii JavaScript over the `cdktf` core) are copied with their
 * `require("cdktf")` pointed at `cdktn`.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENVIRONMENT_NAMES } from '../config/environments';

/** What is installed in the temporary folder: CDK Terrain and its AWS provider. */
const CDKTN_PACKAGES = { cdktn: '0.24.0', '@cdktn/provider-aws': '25.7.0' } as const;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Everything the app imports when it synthesizes. */
const SOURCES = ['main.ts', 'cdktf.json', 'tsconfig.json', 'config', 'stacks', 'handlers', 'asl', 'types'];
/** Packages the copy must not take from this project: cdktn's own replace them. */
const REPLACED = new Set(['cdktf', 'cdktf-cli', '@cdktf', 'constructs', '.bin', '.package-lock.json']);

/** A difference between the two synths of one stack. */
interface Difference {
  readonly stack: string;
  readonly path: string;
  readonly cdktf: unknown;
  readonly cdktn: unknown;
  /** Provider version metadata: expected, and not a failure. */
  readonly metadata: boolean;
}

/** The import rewrite applied to every copied TypeScript file. */
export function rewriteImports(source: string): string {
  return source.replace(/(from\s+|import\s*\(\s*)(['"])cdktf\2/g, '$1$2cdktn$2').replace(/(['"])@cdktf\/provider-aws\//g, '$1@cdktn/provider-aws/');
}

/**
 * Whether a difference at a JSON path of a cdk.tf.json is tool or provider
 * metadata: the tool's version, the provider's version, or the same provider
 * source address written short (`aws`, which Terraform reads as
 * `registry.terraform.io/hashicorp/aws`) or long (`hashicorp/aws`).
 */
export function isVersionMetadata(jsonPath: string, cdktf?: unknown, cdktn?: unknown): boolean {
  if (/^\/\/\./.test(jsonPath) || /^terraform\.required_providers\.[^.]+\.version$/.test(jsonPath)) return true;
  const source = /^terraform\.required_providers\.([^.]+)\.source$/.exec(jsonPath);
  const address = (value: unknown) =>
    typeof value === 'string' ? (value.includes('/') ? value : `hashicorp/${value}`).replace(/^registry\.terraform\.io\//, '') : value;
  return source !== null && address(cdktf) === address(cdktn);
}

/** Every leaf where two JSON documents differ, as dotted paths. */
function diffJson(a: unknown, b: unknown, at = ''): { path: string; a: unknown; b: unknown }[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object';
  if (!isObject(a) || !isObject(b) || Array.isArray(a) !== Array.isArray(b)) return [{ path: at, a, b }];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.flatMap((key) => diffJson(a[key], b[key], at ? `${at}.${key}` : key));
}

/** Compares the stacks of two synth folders. */
export function compareSynths(cdktfOut: string, cdktnOut: string): Difference[] {
  const stacksOf = (out: string) => readdirSync(path.join(out, 'stacks')).sort();
  const differences: Difference[] = [];
  const names = [...new Set([...stacksOf(cdktfOut), ...stacksOf(cdktnOut)])];
  for (const stack of names) {
    const read = (out: string) => {
      const file = path.join(out, 'stacks', stack, 'cdk.tf.json');
      return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as unknown) : undefined;
    };
    for (const difference of diffJson(read(cdktfOut), read(cdktnOut))) {
      differences.push({
        stack,
        path: difference.path,
        cdktf: difference.a,
        cdktn: difference.b,
        metadata: isVersionMetadata(difference.path, difference.a, difference.b),
      });
    }
  }
  return differences;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): void {
  execFileSync(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
}

/** Copies the sources with their imports rewritten. */
function copySources(work: string): void {
  for (const source of SOURCES) cpSync(path.join(ROOT, source), path.join(work, source), { recursive: true });
  const rewrite = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) rewrite(full);
      else if (full.endsWith('.ts')) writeFileSync(full, rewriteImports(readFileSync(full, 'utf8')));
    }
  };
  rewrite(work);
}

/** Installs CDK Terrain in the folder, then links every other package the app needs from this project. */
function installCdktn(work: string): void {
  writeFileSync(
    path.join(work, 'package.json'),
    JSON.stringify({ name: 'cdktn-compat', private: true, type: 'module', dependencies: CDKTN_PACKAGES }, null, 2),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], work);
  const modules = path.join(work, 'node_modules');
  const link = (name: string) => {
    const target = path.join(modules, name);
    if (!existsSync(target)) symlinkSync(path.join(ROOT, 'node_modules', name), target);
  };
  for (const entry of readdirSync(path.join(ROOT, 'node_modules'))) {
    if (REPLACED.has(entry)) continue;
    if (entry.startsWith('@')) {
      mkdirSync(path.join(modules, entry), { recursive: true });
      for (const scoped of readdirSync(path.join(ROOT, 'node_modules', entry))) link(`${entry}/${scoped}`);
    } else link(entry);
  }
  // The null provider's prebuilt bindings, pointed at cdktn.
  const nullProvider = path.join(modules, '@cdktf', 'provider-null');
  cpSync(path.join(ROOT, 'node_modules', '@cdktf', 'provider-null'), nullProvider, { recursive: true, dereference: true });
  const repoint = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) repoint(full);
      else if (full.endsWith('.js')) writeFileSync(full, readFileSync(full, 'utf8').replace(/require\("cdktf"\)/g, 'require("cdktn")'));
    }
  };
  repoint(path.join(nullProvider, 'lib'));
}

function synth(cwd: string, environment: string, outdir: string): void {
  mkdirSync(outdir, { recursive: true });
  // Staging and prod refuse to synthesize without an alarm subscriber: the same placeholder for both tools.
  run(process.execPath, ['--import', 'tsx', 'main.ts'], cwd, {
    CQRS_ENV: environment,
    TF_LOCAL_STATE: '1',
    CDKTF_OUTDIR: outdir,
    ALARM_EMAILS: 'compat-check@example.com',
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const only = args.includes('--env') ? [args[args.indexOf('--env') + 1] as string] : [...ENVIRONMENT_NAMES];
  const work = mkdtempSync(path.join(tmpdir(), 'cdktn-compat-'));
  console.log(
    `compat:cdktn: ${Object.entries(CDKTN_PACKAGES)
      .map(([name, version]) => `${name}@${version}`)
      .join(', ')} in ${work}`,
  );
  let failed = false;
  try {
    copySources(work);
    installCdktn(work);
    for (const environment of only) {
      const cdktfOut = path.join(work, 'out', 'cdktf', environment);
      const cdktnOut = path.join(work, 'out', 'cdktn', environment);
      synth(ROOT, environment, cdktfOut);
      synth(work, environment, cdktnOut);
      const differences = compareSynths(cdktfOut, cdktnOut);
      const real = differences.filter((difference) => !difference.metadata);
      const stacks = readdirSync(path.join(cdktfOut, 'stacks')).length;
      console.log(`\n${environment}: ${stacks} stacks, ${real.length} differences beyond version metadata (${differences.length - real.length} metadata)`);
      for (const difference of differences) {
        console.log(
          `  ${difference.metadata ? 'metadata' : 'DIFFERS '} ${difference.stack} ${difference.path}: ${JSON.stringify(difference.cdktf)} → ${JSON.stringify(difference.cdktn)}`,
        );
      }
      failed ||= real.length > 0;
    }
  } finally {
    if (args.includes('--keep')) console.log(`\nkept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  console.log(failed ? '\ncompat:cdktn: the synths differ (see above)' : '\ncompat:cdktn: identical but for provider version metadata');
  process.exitCode = failed ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
