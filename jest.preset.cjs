// Shared Jest settings: SWC transpiles TypeScript (type checking is the `typecheck` target's job),
// and every run also writes a machine-readable summary that `npm test` adds up.
const path = require('node:path');

/** @param {string} projectRoot @param {string} kind */
module.exports = (projectRoot, kind) => ({
  displayName: `${path.relative(__dirname, projectRoot)}:${kind}`,
  rootDir: projectRoot,
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2023',
        },
        module: { type: 'commonjs' },
        sourceMaps: 'inline',
      },
    ],
    // ESM-only packages (jose) are compiled to CommonJS for Jest like our own code.
    '^.+/node_modules/jose/.+\\.js$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2023' }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: require('./tools/jest/paths.cjs'),
  reporters: ['default', [path.join(__dirname, 'tools/jest/summary-reporter.cjs'), { kind }]],
});
