module.exports = {
  ...require('../../jest.preset.cjs')(__dirname, 'int'),
  testMatch: ['<rootDir>/test/**/*.int-spec.ts'],
  testTimeout: 600_000,
};
