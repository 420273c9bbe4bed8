module.exports = {
  ...require('../../jest.preset.cjs')(__dirname, 'integration'),
  testMatch: ['<rootDir>/test/**/*.int-spec.ts'],
  testTimeout: 60_000,
};
