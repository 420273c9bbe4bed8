import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadVersions } from '@saga-lab/stack';
import { formatReport, toolsFromEnv, validateDeploy } from '../src/validate';

// The whole validation with the real tools `npm test` provisions (KUSTOMIZE_BIN, KUBECONFORM_BIN,
// DOCKER_COMPOSE_BIN, K8S_SCHEMAS_DIR): on the repository's k8s/ and compose file, then on a small copy
// broken on purpose, to show that each stage catches what it is there for.
const repoRoot = path.resolve(__dirname, '../../..');
const kubernetesVersion = loadVersions(repoRoot).kubernetes;
const tools = toolsFromEnv(process.env);

describe('the deploy files', () => {
  it('render, match the Kubernetes API strictly, follow the policy rules, and fit the kind cluster', async () => {
    const report = await validateDeploy({ repoRoot, tools, kubernetesVersion });
    const text = formatReport(report);
    process.stdout.write(text);
    expect({ ok: report.ok, text }).toEqual({ ok: true, text });
    expect(report.renderings.map((r) => r.name)).toEqual(
      expect.arrayContaining([
        'base',
        'overlays/kind',
        'overlays/production',
        'load',
        'base + components/consul-discovery',
      ]),
    );
    for (const rendering of report.renderings) {
      // Every object was checked against a schema: none skipped, none without one.
      expect({ name: rendering.name, ...rendering.kubeconform?.summary }).toEqual({
        name: rendering.name,
        valid: rendering.objects,
        invalid: 0,
        errors: 0,
        skipped: 0,
      });
    }
    expect(report.budget?.target).toBe('overlays/kind');
    expect(report.budget?.total).toBeLessThanOrEqual(4 * 2 ** 30);
    expect(report.kindClusters.length).toBeGreaterThan(0);
  });
});

describe('the validation', () => {
  let root: string;
  const write = (file: string, text: string): void => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  };

  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'deploy-validation-'));
    cpSync(path.join(repoRoot, 'infra', 'compose'), path.join(root, 'infra', 'compose'), { recursive: true });
    write(
      'infra/compose/compose.yaml',
      'services:\n  web:\n    image: saga-lab/gateway:0.1.0\n    read_only: yes-please\n',
    );
    write('k8s/base/kustomization.yaml', 'resources: [web.yaml]\n');
    write(
      'k8s/base/web.yaml',
      `apiVersion: v1
kind: ServiceAccount
metadata: { name: web }
automountServiceAccountToken: false
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      serviceAccountName: web
      securityContext: { runAsNonRoot: true, seccompProfile: { type: RuntimeDefault } }
      containers:
        - name: web
          image: saga-lab/gateway:0.1.0
          resources: { requests: { cpu: 100m, memory: 3Gi }, limits: { cpu: "1", memory: 3Gi } }
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
          livenessProbe: { httpGet: { path: /health/live, port: 3000 } }
          readinessProbe: { httpGet: { path: /health/ready, port: 3000 } }
`,
    );
    // Two replicas of a 3 GiB pod, a misspelt field, and a generated secret that is not there.
    write(
      'k8s/overlays/kind/kustomization.yaml',
      `resources: [../../base, monitor.yaml]
secretGenerator:
  - name: web
    envs: [secrets/web.env]
patches:
  - target: { kind: Deployment, name: web }
    patch: |-
      - op: add
        path: /spec/replicas
        value: 2
      - op: add
        path: /spec/template/spec/containers/0/imagePullPolicy
        value: Always
      - op: add
        path: /spec/template/spec/containers/0/readinesProbe
        value: { httpGet: { path: /health/ready, port: 3000 } }
`,
    );
    // A custom resource: no API schema describes it, so it is skipped by name and reported.
    write(
      'k8s/overlays/kind/monitor.yaml',
      'apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: { name: web }\nspec: {}\n',
    );
    write(
      'k8s/overlays/kind/kind-cluster.yaml',
      'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes: [{ role: control-plane, extraPortMappings: [{ containerPort: 80, hostPort: 80 }] }]\n',
    );
    write(
      'k8s/extra/secret.yaml',
      'apiVersion: v1\nkind: Secret\nmetadata: { name: leaked }\nstringData: { password: hunter2 }\n',
    );
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('catches a misspelt field, a policy breach, a leaked secret, the memory budget, kind and compose mistakes', async () => {
    const report = await validateDeploy({ repoRoot: root, tools, kubernetesVersion });
    const text = formatReport(report);
    expect(report.ok).toBe(false);
    const kind = report.renderings.find((r) => r.name === 'overlays/kind');
    expect(kind?.renderError).toBeUndefined(); // the secret file was made up for the rendering
    expect(report.throwawaySecrets).toEqual(['overlays/kind/secrets/web.env']);
    expect(kind?.kubeconform?.summary).toMatchObject({ invalid: 1, errors: 0, skipped: 1 });
    expect(kind?.skippedKinds).toEqual(['monitoring.coreos.com/v1/ServiceMonitor']);
    expect(text).toContain("additional properties 'readinesProbe' not allowed");
    expect(kind?.findings.map((f) => f.rule)).toEqual(['image-pull-policy']);
    expect(report.budget).toEqual({ target: 'overlays/kind', total: 6 * 2 ** 30, limit: 4 * 2 ** 30 });
    expect(report.sourceFindings.map((f) => f.rule).sort()).toEqual(['committed-secret', 'memory-budget']);
    expect(report.kindClusters[0]?.problems.join()).toMatch(/listenAddress is not set/);
    expect(report.compose.ok).toBe(false);
    expect(report.compose.output).toMatch(/read_only/);
    // The base alone is fine.
    expect(report.renderings.find((r) => r.name === 'base')).toMatchObject({
      findings: [],
      kubeconform: { summary: { valid: 2, invalid: 0, errors: 0, skipped: 0 } },
    });
  });
});
