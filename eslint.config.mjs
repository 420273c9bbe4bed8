import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const testFiles = ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', '**/test/**/*.ts'];

// Module boundaries (docs/architecture.md §1): apps import libs, never another app; contracts import only
// contracts and the kernel; testing helpers only from test files.
// type:kernel (libs/errors) is what every layer must share to speak the same language — the error root
// that contract violations extend too — so anything may import it and it imports nothing of ours. It is a
// tag of its own because neither existing one fits: as type:lib the contracts could not import it, as
// type:contracts it would pass for a message contract.
const productionConstraints = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:kernel'] },
  { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:kernel'] },
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts', 'type:kernel'] },
  { sourceTag: 'type:kernel', onlyDependOnLibsWithTags: ['type:kernel'] },
  { sourceTag: 'type:tooling', onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:kernel'] },
  // The failure lab and the load tests drive the running local stack (kill, restart, reconfigure): they may
  // use the stack's tooling, nothing may use them.
  {
    sourceTag: 'type:driver',
    onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:kernel', 'scope:infra'],
  },
  {
    sourceTag: 'type:testing',
    onlyDependOnLibsWithTags: ['type:lib', 'type:contracts', 'type:kernel', 'type:testing'],
  },
];
const testConstraints = productionConstraints.map((c) =>
  c.sourceTag === 'type:contracts' || c.sourceTag === 'type:kernel'
    ? c
    : { ...c, onlyDependOnLibsWithTags: [...new Set([...c.onlyDependOnLibsWithTags, 'type:testing'])] },
);
const boundaries = (depConstraints) => [
  'error',
  { enforceBuildableLibDependency: true, allow: [], depConstraints },
];

export default [
  { ignores: ['**/dist', '**/node_modules', '**/coverage', '**/.nx', '**/tmp', 'load-tests/**/*.js'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    files: ['**/*.ts'],
    ignores: testFiles,
    rules: { '@nx/enforce-module-boundaries': boundaries(productionConstraints) },
  },
  {
    files: testFiles,
    rules: { '@nx/enforce-module-boundaries': boundaries(testConstraints) },
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  prettier,
];
