// Maps the tsconfig.base.json path aliases (@saga-lab/*) for Jest, so they are declared once.
const path = require('node:path');
const fs = require('node:fs');

const root = path.resolve(__dirname, '../..');
const base = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8'));
const mapper = {};
for (const [alias, [target]] of Object.entries(base.compilerOptions.paths ?? {})) {
  mapper[`^${alias.replace('*', '(.*)')}$`] = path.join(root, target.replace('*', '$1'));
}
module.exports = mapper;
