// Runs the longest test files first, so the two workers finish together even
// on a fresh clone (no timing cache): the IAM mutation proof and the runtime
// integration suites start at once, the unit tests fill in around them.
const Sequencer = require('@jest/test-sequencer').default;

const FIRST = ['iam-mutations', 'local-runtime', 'operations', 'crash', 'console', 'faults', 'durability'];

class LongestFirst extends Sequencer {
  sort(tests) {
    const rank = (test) => {
      const index = FIRST.findIndex((name) => test.path.includes(`${name}.`));
      return index === -1 ? FIRST.length : index;
    };
    return [...super.sort(tests)].sort((a, b) => rank(a) - rank(b));
  }
}

module.exports = LongestFirst;
