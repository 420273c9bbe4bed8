import path from 'node:path';
import { StackError, loadVersions } from '@saga-lab/stack';
import { describeRules, formatReport, toolsFromEnv, validateDeploy } from './validate';

const USAGE = `npm run k8s:validate [-- --json | --rules]

  renders every kustomization of k8s/ (and the base with each component), checks each rendering with
  kubeconform against the Kubernetes API's schemas (strict, offline) and with the policy rules, checks
  kind's cluster configuration and infra/compose/compose.yaml; exits 1 if anything is wrong
  --json    the report as JSON
  --rules   the policy rules`;

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (argv.includes('--rules')) {
    process.stdout.write(`${describeRules()}\n`);
    return 0;
  }
  const unknown = argv.filter((arg) => arg !== '--json');
  if (unknown.length > 0) {
    process.stderr.write(`unknown argument ${unknown[0]}\n${USAGE}\n`);
    return 2;
  }
  const repoRoot = path.resolve(__dirname, '../../..');
  const report = await validateDeploy({
    repoRoot,
    tools: toolsFromEnv(process.env),
    kubernetesVersion: loadVersions(repoRoot).kubernetes,
  });
  process.stdout.write(
    argv.includes('--json') ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report),
  );
  return report.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof StackError) process.stderr.write(`\nerror: ${error.message}\n  fix: ${error.fix}\n`);
    else
      process.stderr.write(`✗ ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
