module.exports = {
  ...require('../../jest.preset.cjs')(__dirname, 'e2e'),
  testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
  testTimeout: 1_800_000,
};
