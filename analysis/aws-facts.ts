/**
 * AWS's published prices and default quotas (`config/aws-facts.json`): the
 * one place such numbers live, each with its source page and the date it was read.
 */
import { readFileSync } from 'node:fs';

/** A price or a quota, with where it comes from. */
interface Fact {
  readonly usd?: number;
  readonly value?: number;
  readonly unit: string;
  readonly source: string;
}

/** The data file. */
export interface AwsFacts {
  readonly region: string;
  readonly prices: { readonly source: string; readonly date: string; readonly items: Readonly<Record<string, Fact>> };
  readonly quotas: { readonly source: string; readonly date: string; readonly items: Readonly<Record<string, Fact>> };
}

/** Reads the data file (a path for tests that vary it). */
export function loadAwsFacts(file: URL | string = new URL('../config/aws-facts.json', import.meta.url)): AwsFacts {
  return JSON.parse(readFileSync(file, 'utf8')) as AwsFacts;
}

/** A price in USD, failing on an unknown name (a typo must not price at 0). */
export function price(facts: AwsFacts, name: string): number {
  const usd = facts.prices.items[name]?.usd;
  if (usd === undefined) throw new Error(`config/aws-facts.json has no price ${name}`);
  return usd;
}

/** A default quota, failing on an unknown name. */
export function quota(facts: AwsFacts, name: string): number {
  const value = facts.quotas.items[name]?.value;
  if (value === undefined) throw new Error(`config/aws-facts.json has no quota ${name}`);
  return value;
}
