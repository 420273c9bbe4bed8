import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { requireJava, requireTool } from './components/toolchain';
import { resolveStackConfig } from './config';
import type { StackContext } from './context';
import { StackError } from './errors';
import { resolvePaths } from './paths';
import { assertPortFree, which } from './proc';
import { silentReporter } from './progress';
import { loadVersions } from './versions';

function context(env: NodeJS.ProcessEnv): StackContext {
  const paths = resolvePaths({ SAGA_LAB_STATE_DIR: mkdtempSync(path.join(os.tmpdir(), 'stack-')) });
  return {
    paths,
    versions: loadVersions(paths.repoRoot),
    config: resolveStackConfig({}),
    reporter: silentReporter(),
    env,
    isRoot: false,
  };
}

describe('a port that is already taken', () => {
  let server: net.Server;
  let port: number;

  beforeAll(async () => {
    server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  it('stops the start with one sentence naming the port, the component and the way out', async () => {
    const error = await assertPortFree(port, 'kafka', 'KAFKA_BROKERS').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackError);
    expect((error as StackError).message).toBe(
      `Port ${port} on 127.0.0.1, needed by kafka, is already in use by another process.`,
    );
    expect((error as StackError).fix).toBe(
      'Stop that process, or point KAFKA_BROKERS at the kafka already running there so it is not provisioned.',
    );
  });

  it('lets a free port through', async () => {
    const free = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(p));
      });
    });
    await expect(assertPortFree(free, 'redis')).resolves.toBeUndefined();
  });
});

describe('a missing tool', () => {
  it('is reported with the tool, what needs it and how to install it', () => {
    const ctx = context({ PATH: '/nonexistent' });
    expect(() => requireTool(ctx, 'go', 'build Consul from the Go module proxy')).toThrow(
      new StackError(
        '`go` was not found on PATH; it is needed to build Consul from the Go module proxy.',
        'Install it (Go 1.25 or newer from go.dev/dl, or `apt-get install golang` where recent enough) and run the command again.',
      ),
    );
    try {
      requireTool(ctx, 'mvn', 'resolve the Kafka broker from Maven Central');
    } catch (error) {
      expect((error as StackError).fix).toContain('apt-get install maven');
    }
  });

  it('finds tools on PATH', () => {
    expect(which('sh', '/usr/bin:/bin')).toMatch(/\/sh$/);
    expect(which('no-such-tool-anywhere', '/usr/bin:/bin')).toBeUndefined();
  });

  it('rejects a Java older than 17 with the version it found', async () => {
    const bin = mkdtempSync(path.join(os.tmpdir(), 'fake-java-'));
    writeFileSync(path.join(bin, 'java'), '#!/bin/sh\necho \'openjdk version "11.0.2" 2019-01-15\' >&2\n', {
      mode: 0o755,
    });
    const error = await requireJava(context({ PATH: bin }), 'run the Kafka broker').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackError);
    expect((error as StackError).message).toBe(
      'Java 11 was found; Java 17 or newer is needed to run the Kafka broker.',
    );
  });
});
