/**
 * The command line of the project's CLIs (`npm start`, `npm run send`, …):
 * `node:util` parseArgs, with what it refuses (an unknown option, a value
 * that starts with a dash, a missing value) said in two lines, what was wrong
 * and the options the command takes, and exit code 2, as a usage error. Left
 * to itself, parseArgs threw, and the user read a Node stack trace.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** `parseArgs(config)` for `command` (`npm start`), or exit 2 naming what was wrong and the options it takes. */
export function parseCommandLine<T extends ParseArgsConfig>(command: string, config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    if (!String((error as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS_')) throw error;
    const options = Object.entries(config.options ?? {}).map(([name, option]) => `--${name}${option.type === 'string' ? ' <value>' : ''}`);
    console.error(`${command}: ${(error as Error).message}\n${command} takes ${options.join(', ')}${config.options?.help ? ' (--help explains them)' : ''}`);
    process.exit(2);
  }
}
