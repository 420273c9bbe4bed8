const preset = require('../../jest.preset.cjs')(__dirname, 'unit');

// license-checker-rseidelsohn ships ES modules only: it is compiled to CommonJS for Jest like jose is.
module.exports = {
  ...preset,
  testMatch: ['<rootDir>/*.spec.ts'],
  transform: {
    ...preset.transform,
    '^.+/node_modules/license-checker-rseidelsohn/.+\\.js$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2023' }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(jose|license-checker-rseidelsohn)/)'],
};
