import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatReport, requiredComposeVariables, toolsFromEnv, type ValidationReport } from './validate';

describe('deploy validation', () => {
  it('finds the variables a compose file requires', () => {
    const text = 'a: ${A:?set it}\nb: ${B?}\nc: ${C:-default}\nd: ${D}\ne: ${A:?again}\n';
    expect(requiredComposeVariables(text)).toEqual(['A', 'B']);
  });

  it('takes the tools from the environment, naming what is missing and how to get it', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'tools-'));
    try {
      const file = (name: string): string => {
        writeFileSync(path.join(root, name), '');
        return path.join(root, name);
      };
      mkdirSync(path.join(root, 'schemas'));
      const env = {
        KUSTOMIZE_BIN: file('kustomize'),
        KUBECONFORM_BIN: file('kubeconform'),
        DOCKER_COMPOSE_BIN: file('docker-compose'),
        K8S_SCHEMAS_DIR: path.join(root, 'schemas'),
      };
      expect(toolsFromEnv(env)).toEqual({
        kustomize: env.KUSTOMIZE_BIN,
        kubeconform: env.KUBECONFORM_BIN,
        compose: env.DOCKER_COMPOSE_BIN,
        schemasDir: env.K8S_SCHEMAS_DIR,
      });
      expect(() =>
        toolsFromEnv({ ...env, KUBECONFORM_BIN: '/nowhere/kubeconform', K8S_SCHEMAS_DIR: '' }),
      ).toThrow(
        "The deploy validation's tools are not provisioned yet (KUBECONFORM_BIN=/nowhere/kubeconform, K8S_SCHEMAS_DIR).",
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('reports each rendering on one line and every problem with its rule', () => {
    const report: ValidationReport = {
      kubernetesVersion: '1.34.2',
      renderings: [
        {
          name: 'overlays/kind',
          objects: 3,
          kubeconform: {
            summary: { valid: 2, invalid: 1, errors: 0, skipped: 0 },
            problems: [
              {
                filename: 'x.yaml',
                kind: 'Deployment',
                name: 'order',
                version: 'apps/v1',
                status: 'statusInvalid',
                validationErrors: [{ path: '/spec/replicas', msg: 'got string, want null or integer' }],
              },
            ],
          },
          skippedKinds: [],
          findings: [
            {
              rule: 'probes',
              object: 'Deployment saga-lab/order container order',
              message: 'no readinessProbe',
            },
          ],
          memory: { total: 2 ** 30, lines: [] },
        },
        {
          name: 'load',
          objects: 0,
          renderError: 'Error: missing file',
          skippedKinds: [],
          findings: [],
          memory: { total: 0, lines: [] },
        },
      ],
      sourceFindings: [],
      kindClusters: [{ file: 'k8s/overlays/kind/kind-cluster.yaml', problems: [] }],
      budget: { target: 'overlays/kind', total: 2 ** 30, limit: 4 * 2 ** 30 },
      compose: { file: 'infra/compose/compose.yaml', ok: true, output: '' },
      throwawaySecrets: ['overlays/kind/secrets/gateway.env'],
      ok: false,
    };
    const text = formatReport(report);
    expect(text).toContain(
      '✗ overlays/kind  3 objects: 2 valid, 1 invalid, 0 errors, 0 skipped; 1 policy findings; memory requests 1.00 GiB',
    );
    expect(text).toContain('✗ load           kustomize build failed');
    expect(text).toContain('Memory requests of overlays/kind: 1.00 GiB (limit 4.00 GiB).');
    expect(text).toContain(
      '• overlays/kind: Deployment order (apps/v1): /spec/replicas: got string, want null or integer',
    );
    expect(text).toContain(
      '• overlays/kind: [probes] Deployment saga-lab/order container order: no readinessProbe',
    );
    expect(text).toContain('• load: kustomize build failed:');
    expect(text).toContain('Rendered with throwaway values for: k8s/overlays/kind/secrets/gateway.env.');
    expect(text.trimEnd().split('\n').at(-1)).toBe('✗ the deploy files are not valid (see above)');
  });
});
