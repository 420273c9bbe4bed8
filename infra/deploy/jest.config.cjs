module.exports = {
  ...require('../../jest.preset.cjs')(__dirname, 'unit'),
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
