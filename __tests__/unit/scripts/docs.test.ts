/**
 * The figures in the README and docs/ are generated (bench/generated-docs.ts)
 * from the benchmark's results and the capacity model: this fails when one is
 * out of date, or was edited by hand.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { GENERATED_DOCUMENTS, generatedBlocks, refreshDocuments, regenerate } from '../../../bench/generated-docs';
import { budget } from '../../helpers/budget';

describe('the generated figures of the docs', () => {
  it(
    'are current: npm run docs would change nothing',
    () => {
      expect(refreshDocuments({ check: true })).toEqual([]);
    },
    budget({ seconds: 20 }),
  );

  it(
    'are in every document that shows benchmark or capacity figures, and every block is known',
    () => {
      const blocks = generatedBlocks();
      for (const document of GENERATED_DOCUMENTS) {
        const names = [...readFileSync(document, 'utf8').matchAll(/<!-- generated:([a-z-]+) -->/g)].map((match) => match[1]);
        expect({ document, unknown: names.filter((name) => !((name as string) in blocks)) }).toEqual({ document, unknown: [] });
        expect(names.length).toBeGreaterThan(0);
      }
    },
    budget({ seconds: 20 }),
  );

  it('names a block edited by hand, and one no generator knows', () => {
    const blocks = { table: '| a | 1 |' };
    const edited = '# doc\n<!-- generated:table -->\n| a | 2 |\n<!-- /generated:table -->\n<!-- generated:mystery -->\nx\n<!-- /generated:mystery -->\n';
    const { text, stale } = regenerate(edited, blocks);
    expect(stale).toEqual(['table', 'mystery (no such generated block)']);
    expect(text).toContain('<!-- generated:table -->\n| a | 1 |\n<!-- /generated:table -->');
    expect(regenerate(text, blocks).stale).toEqual(['mystery (no such generated block)']);
  });
});
