import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createContext } from '@saga-lab/stack';
import { writeComposeEnv, type ComposeProject } from '../src/compose';
import { ensureDocker, type DockerEngine } from '../src/docker';
import { buildImages, deployedImages, imageSizes, mebibytes } from '../src/images';
import { freePort, smoke } from '../src/smoke';

/**
 * The compose deployment for real: the images built from the local bases (no registry here), the whole
 * system up with its health checks, one order placed through the gateway and CONFIRMED by the saga across
 * the containers, then down — nothing of the project left. Where no Docker engine can run (not root, not
 * Debian-like, no engine), it is skipped and says why.
 */
function whyNoEngine(): string | undefined {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 15_000 });
    return undefined;
  } catch {
    if (process.getuid?.() !== 0)
      return 'no Docker engine answers and this run is not root (Debian’s docker.io is installed and started only as root)';
    if (!existsSync('/usr/bin/apt-get') && !existsSync('/usr/sbin/dockerd'))
      return 'no Docker engine answers and there is no apt-get to install Debian’s docker.io';
    return undefined;
  }
}

const why = whyNoEngine();
if (why) process.stdout.write(`\n⚠ compose smoke test SKIPPED: ${why}\n\n`);

(why ? describe.skip : describe)('compose deployment, end to end (Docker engine)', () => {
  const ctx = createContext(process.env);
  let engine: DockerEngine | undefined;
  let dir: string;

  beforeAll(async () => {
    engine = await ensureDocker(ctx);
    dir = mkdtempSync(path.join(os.tmpdir(), 'saga-lab-compose-'));
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await engine?.stop();
  });

  it('builds the images, confirms an order through the gateway, and goes down leaving nothing', async () => {
    const built = await buildImages(ctx, { bases: 'local' });
    const sizes = await imageSizes(deployedImages(built));
    process.stdout.write(
      `image sizes:\n${sizes.map((s) => `  ${s.ref.padEnd(34)} ${mebibytes(s.bytes)}`).join('\n')}\n`,
    );
    expect(sizes.map((s) => s.ref)).toHaveLength(11);

    const project: ComposeProject = {
      name: `saga-lab-test-${process.pid}`,
      envFile: path.join(dir, 'compose.env'),
      ports: { gateway: await freePort(), zipkin: await freePort(), prometheus: await freePort() },
    };
    const secrets = writeComposeEnv(project.envFile);
    const report = await smoke(ctx, project, secrets, (containers) => {
      // Every container runs as the unprivileged user, on a read-only root filesystem, without capabilities.
      for (const c of containers) {
        expect({ name: c.name, user: c.user, readOnly: c.readOnly, capDrop: c.capDrop }).toEqual({
          name: c.name,
          user: '10001:10001',
          readOnly: true,
          capDrop: ['ALL'],
        });
      }
      expect(containers.map((c) => c.service).sort()).toEqual([
        'consul',
        'gateway',
        'inventory',
        'kafka',
        'order',
        'payment',
        'postgres',
        'prometheus',
        'redis',
        'zipkin',
      ]);
    });
    const total = Object.values(report.memoryBytes).reduce((a, b) => a + b, 0);
    process.stdout.write(
      `compose: healthy after ${(report.upMs / 1000).toFixed(0)} s; order ${report.order.status} in ${report.order.settledMs} ms; ` +
        `memory ${mebibytes(total)} (${Object.entries(report.memoryBytes)
          .map(([name, bytes]) => `${name.replace(`${project.name}-`, '')} ${mebibytes(bytes)}`)
          .join(', ')})\n`,
    );
    expect(report.order.status).toBe('CONFIRMED');
    expect(report.left).toEqual({ containers: [], networks: [], volumes: [] });
  });
});
