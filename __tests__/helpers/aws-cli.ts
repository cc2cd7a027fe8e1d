import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/** Where an AWS CLI may be installed: the PATH's, pyenv's (the image's v1), a bundled v2, Debian's awscli package. */
const CANDIDATES = ['aws', '/root/.pyenv/shims/aws', '/usr/local/bin/aws', '/usr/bin/aws'];

/**
 * The AWS CLIs of this machine, one per major version (CI installs v2 next to
 * the image's v1), as major → absolute path: a stub named `aws` on a PATH can
 * hand calls to one without finding itself.
 */
export async function installedAwsClis(): Promise<Map<string, string>> {
  const run = promisify(execFile);
  const clis = new Map<string, string>();
  for (const name of CANDIDATES) {
    const candidate = absolute(name);
    if (!candidate) continue;
    const version = await run(candidate, ['--version']).then(
      (out) => `${out.stdout}${out.stderr}`,
      () => '',
    );
    const major = /aws-cli\/(\d)/.exec(version)?.[1];
    if (major && !clis.has(major)) clis.set(major, candidate);
  }
  return clis;
}

/** `name` as an absolute path, looked up on the PATH when it has no folder. */
function absolute(name: string): string | undefined {
  const folders = name.includes('/') ? [''] : (process.env.PATH ?? '').split(':').filter(Boolean);
  for (const folder of folders) {
    const file = folder ? path.join(folder, name) : name;
    try {
      accessSync(file, constants.X_OK);
      return path.resolve(file);
    } catch {
      // not here
    }
  }
  return undefined;
}
