/**
 * The browser the console tests drive, with no root and no system package:
 * `CHROMIUM_PATH` when set, else a system Chromium when one is installed
 * (faster to start: nothing to unpack), else the Chromium binary that
 * `@sparticuz/chromium` ships inside its npm package, unpacked to the temp
 * folder on first use. playwright-core drives it either way and downloads
 * nothing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Where system Chromium builds install. */
const SYSTEM_CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/**
 * Flags for a headless run on a closed network: without the background
 * networking ones Chromium keeps dialling Google's hosts, refused many at a time.
 */
export const BROWSER_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A Chromium executable for playwright-core, and where it came from. */
export async function browserExecutable(): Promise<{ path: string; source: string }> {
  if (process.env.CHROMIUM_PATH) return { path: process.env.CHROMIUM_PATH, source: 'CHROMIUM_PATH' };
  const system = SYSTEM_CHROMIUM.find((candidate) => existsSync(candidate));
  if (system) return { path: system, source: 'system' };
  // The package unpacks to (and reuses) <tmpdir>/chromium, so another user's
  // copy (mode 0700) would be found and refused: it unpacks into a per-user
  // folder instead, in a child process, because os.tmpdir() reads the real
  // environment and jest gives tests a copy of it.
  const folder = path.join(tmpdir(), `order-pipeline-chromium-${process.getuid?.() ?? 'user'}`);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const unpack = "const { default: chromium } = await import('@sparticuz/chromium'); process.stdout.write(await chromium.executablePath());";
  const executable = execFileSync(process.execPath, ['--input-type=module', '-e', unpack], {
    env: { ...process.env, TMPDIR: folder, NODE_OPTIONS: '' },
    encoding: 'utf8',
  }).trim();
  assertLibraries(executable);
  return { path: executable, source: '@sparticuz/chromium' };
}

/** Fails with the missing shared libraries named (and the Debian packages that bring them), not with Chromium's exit code. */
function assertLibraries(executable: string): void {
  let listing: string;
  try {
    listing = execFileSync('ldd', [executable], { encoding: 'utf8' });
  } catch {
    return; // no ldd: let the launch say what is wrong
  }
  const missing = [...listing.matchAll(/^\s*(\S+) => not found/gm)].map((match) => match[1]);
  if (missing.length > 0) {
    throw new Error(
      `the packaged Chromium (${executable}) needs shared libraries this machine lacks: ${missing.join(', ')} (Debian: apt-get install libnss3 libnspr4), or set CHROMIUM_PATH to a browser`,
    );
  }
}
