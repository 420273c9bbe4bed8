// Writes each Jest run's totals to dist/test-results/, so `npm test` can print one closing line
// ("N passed, N failed") for the whole suite.
const fs = require('node:fs');
const path = require('node:path');

class SummaryReporter {
  constructor(globalConfig, options) {
    this.options = options;
    this.globalConfig = globalConfig;
  }

  onRunComplete(_contexts, results) {
    const dir = path.resolve(__dirname, '../../dist/test-results');
    fs.mkdirSync(dir, { recursive: true });
    const name =
      (this.globalConfig.rootDir ?? 'root').replace(/[^a-z0-9]+/gi, '_') + `.${this.options.kind}.json`;
    const summary = {
      rootDir: this.globalConfig.rootDir,
      kind: this.options.kind,
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
    };
    fs.writeFileSync(path.join(dir, name), JSON.stringify(summary, null, 2));
  }
}

module.exports = SummaryReporter;
