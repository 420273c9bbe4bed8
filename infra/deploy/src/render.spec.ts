import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  composeTarget,
  copyK8s,
  findKustomizations,
  parseYamlDocuments,
  renderTargets,
  secretGeneratorFiles,
  writeThrowawaySecrets,
  yamlFiles,
} from './render';

describe('rendering k8s/', () => {
  let root: string;
  const write = (file: string, text: string): void => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  };

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'render-'));
    write('k8s/base/kustomization.yaml', 'kind: Kustomization\nresources: [a.yaml]\n');
    write('k8s/base/a.yaml', 'kind: ConfigMap\n---\nkind: Service\n');
    write('k8s/components/consul/kustomization.yaml', 'kind: Component\n');
    write(
      'k8s/overlays/kind/kustomization.yaml',
      [
        'resources: [../../base]',
        'secretGenerator:',
        '  - name: db',
        '    envs: [secrets/db.env]',
        '  - name: tls',
        '    files: [tls.crt=secrets/tls.crt, secrets/plain.txt]',
        '  - name: users',
        '    envs: [secrets/users.env]',
        '',
      ].join('\n'),
    );
    write(
      'k8s/overlays/kind/secrets/users.env.example',
      '# who may log in\nGATEWAY_USERS=alice\nGATEWAY_JWT_SECRET=x\n',
    );
    write('k8s/overlays/kind/secrets/db.env', 'PASSWORD=the-real-one\n'); // generated on this machine, never read
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('finds every kustomization and renders each, plus the base with each component', () => {
    const found = findKustomizations(path.join(root, 'k8s'));
    expect(found.map((k) => [k.dir, k.kind])).toEqual([
      ['base', 'Kustomization'],
      ['components/consul', 'Component'],
      ['overlays/kind', 'Kustomization'],
    ]);
    expect(renderTargets(found)).toEqual([
      { name: 'base', dir: 'base' },
      { name: 'overlays/kind', dir: 'overlays/kind' },
      { name: 'base + components/consul', dir: 'base', components: ['components/consul'] },
    ]);
  });

  it('reads the files a secretGenerator needs', () => {
    const [, , overlay] = findKustomizations(path.join(root, 'k8s'));
    expect(secretGeneratorFiles(overlay?.content ?? {})).toEqual([
      { file: 'secrets/db.env', env: true },
      { file: 'secrets/tls.crt', env: false },
      { file: 'secrets/plain.txt', env: false },
      { file: 'secrets/users.env', env: true },
    ]);
  });

  it('copies k8s/ without the generated secrets and writes throwaway ones, keys from an .example', () => {
    const k8s = path.join(root, 'k8s');
    const found = findKustomizations(k8s);
    const copy = copyK8s(k8s, path.join(root, 'scratch'), found);
    expect(existsSync(path.join(copy, 'base', 'a.yaml'))).toBe(true);
    expect(existsSync(path.join(copy, 'overlays/kind/secrets/db.env'))).toBe(false);
    expect(writeThrowawaySecrets(copy, found)).toEqual([
      'overlays/kind/secrets/db.env',
      'overlays/kind/secrets/tls.crt',
      'overlays/kind/secrets/plain.txt',
      'overlays/kind/secrets/users.env',
    ]);
    const db = readFileSync(path.join(copy, 'overlays/kind/secrets/db.env'), 'utf8');
    expect(db).toMatch(/^PLACEHOLDER=[A-Za-z0-9_-]{24}\n$/);
    expect(db).not.toContain('the-real-one');
    expect(readFileSync(path.join(copy, 'overlays/kind/secrets/users.env'), 'utf8')).toMatch(
      /^GATEWAY_USERS=\S+\nGATEWAY_JWT_SECRET=\S+\n$/,
    );
    // The working tree is left as it was.
    expect(readFileSync(path.join(k8s, 'overlays/kind/secrets/db.env'), 'utf8')).toBe(
      'PASSWORD=the-real-one\n',
    );
    expect(existsSync(path.join(k8s, 'overlays/kind/secrets/tls.crt'))).toBe(false);
  });

  it('writes the kustomization that adds a component to the base', () => {
    const copy = path.join(root, 'k8s');
    const dir = composeTarget(copy, {
      name: 'base + components/consul',
      dir: 'base',
      components: ['components/consul'],
    });
    expect(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')).toBe(
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        'resources:',
        '  - ../../base',
        'components:',
        '  - ../../components/consul',
        '',
      ].join('\n'),
    );
    expect(composeTarget(copy, { name: 'base', dir: 'base' })).toBe(path.join(copy, 'base'));
  });

  it('lists the YAML files under k8s/ and parses multi-document YAML, naming a broken file', () => {
    expect(yamlFiles(path.join(root, 'k8s'))).toEqual([
      'base/a.yaml',
      'base/kustomization.yaml',
      'components/consul/kustomization.yaml',
      'overlays/kind/kustomization.yaml',
    ]);
    expect(parseYamlDocuments('a: 1\n---\n---\nb: 2\n', 'x.yaml')).toEqual([{ a: 1 }, { b: 2 }]);
    expect(() => parseYamlDocuments('a: [1\n', 'k8s/x.yaml')).toThrow(/^k8s\/x\.yaml, document 1: /);
  });

  it('in a git work tree, lists only the YAML files git would commit', () => {
    write('k8s/.gitignore', 'overlays/*/secrets/\n');
    write('k8s/overlays/kind/secrets/generated.yaml', 'kind: Secret\ndata: { a: YQ== }\n');
    execFileSync('git', ['init', '-q'], { cwd: root });
    expect(yamlFiles(path.join(root, 'k8s'))).toEqual([
      'base/a.yaml',
      'base/kustomization.yaml',
      'components/consul/kustomization.yaml',
      'overlays/kind/kustomization.yaml',
    ]);
    rmSync(path.join(root, '.git'), { recursive: true, force: true });
    expect(yamlFiles(path.join(root, 'k8s'))).toContain('overlays/kind/secrets/generated.yaml');
  });
});
