/**
 * The command and query registries as one value: what the synth (stacks,
 * workflow, schemas) and the analyses that read it (capacity, IAM inventory)
 * take, defaulting to {@link REGISTRY}. A test passes a registry with extra
 * members (see `registryWith`) to prove that a new query or command reaches
 * everything derived from the registries with no other edit.
 */
import type { CommandDefinition } from './commands/command-definition';
import { COMMANDS } from './commands/registry';
import type { QueryDefinition } from './queries/query-definition';
import { QUERIES } from './queries/registry';

/** Every query and every command, each declared once in a module of its own. */
export interface Registry {
  readonly queries: readonly QueryDefinition[];
  readonly commands: readonly CommandDefinition[];
}

/** The project's registry: the modules listed in `queries/registry.ts` and `commands/registry.ts`. */
export const REGISTRY: Registry = { queries: QUERIES, commands: COMMANDS };

/**
 * The registry with extra members after the real ones. Throws when a name
 * (or a query's function name) is taken twice: the routing, the functions and
 * the schemas are keyed by them.
 */
export function registryWith(extra: Partial<Registry>, base: Registry = REGISTRY): Registry {
  const registry: Registry = { queries: [...base.queries, ...(extra.queries ?? [])], commands: [...base.commands, ...(extra.commands ?? [])] };
  const taken = (kind: string, names: readonly string[]) => {
    const twice = names.filter((name, index) => names.indexOf(name) !== index);
    if (twice.length > 0) throw new Error(`the registry has more than one ${kind} named ${[...new Set(twice)].join(', ')}`);
  };
  taken(
    'query',
    registry.queries.map((query) => query.name),
  );
  taken(
    'query function',
    registry.queries.map((query) => query.functionName),
  );
  taken(
    'command',
    registry.commands.map((command) => command.name),
  );
  return registry;
}
