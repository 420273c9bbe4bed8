import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { listenerPids } from '@saga-lab/observability';
import { required } from '../shared/script';
import type { Target } from './measure';
import type { Settings } from './settings';

/** Starts hello-world.ts with plain Node (its type stripping), as its own process like the gateway. */
export async function startHelloWorld(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON', path.join(__dirname, 'hello-world.ts')],
    {
      env: { ...process.env, PORT: process.env['HELLO_WORLD_PORT'] ?? '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the hello world server did not start within 10 s')),
      10_000,
    );
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = /^(http:\/\/\S+)\n/.exec(out);
      if (line?.[1]) {
        clearTimeout(timer);
        resolve(line[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`the hello world server exited with ${code}`)));
  });
  return { url: `${url}/`, child };
}

export function helloWorldTarget(url: string, child: ChildProcess): Target {
  return {
    name: 'hello-world',
    url,
    description: 'bare node:http hello world (load-tests/gateway/hello-world.ts)',
    serverPids: child.pid === undefined ? [] : [child.pid],
  };
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const grace = new AbortController();
  const timeout = sleep(5_000, undefined, { signal: grace.signal }).then(
    () => child.kill('SIGKILL'),
    () => undefined,
  );
  await Promise.race([exited, timeout]);
  grace.abort();
}

interface Token {
  readonly accessToken: string;
  readonly expiresAt: number;
}

async function login(s: Settings): Promise<Token> {
  const hint =
    'export the gateway demo user (GATEWAY_DEMO_USER, GATEWAY_DEMO_PASSWORD), or run TARGETS=hello-world';
  const username = required('GATEWAY_DEMO_USER', hint);
  const password = required('GATEWAY_DEMO_PASSWORD', hint);
  const url = `${s.gatewayUrl}/v1/auth/token`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'password', username, password }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (cause) {
    throw new Error(`the gateway does not answer at ${url} — start it (npm start) or set GATEWAY_URL`, {
      cause,
    });
  }
  const text = await response.text();
  if (response.status !== 200)
    throw new Error(`POST ${url} answered ${response.status}: ${text.slice(0, 500)}`);
  const body = JSON.parse(text) as { access_token?: string; token_type?: string; expires_in?: number };
  if (!body.access_token || body.token_type?.toLowerCase() !== 'bearer') {
    throw new Error(`POST ${url} did not return a bearer access_token: ${text.slice(0, 500)}`);
  }
  return { accessToken: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 3600) * 1000 };
}

/**
 * One login for the whole run; a new one only if the access token would expire before a step ends
 * (access tokens are short-lived, and a 401 storm would read as the gateway failing).
 */
export async function gatewayTarget(s: Settings): Promise<Target> {
  let token = await login(s);
  const authorization = async (): Promise<string> => {
    if (token.expiresAt - Date.now() < (s.durationS + 30) * 1000) token = await login(s);
    return `Bearer ${token.accessToken}`;
  };
  const url = `${s.gatewayUrl}/v1/products/${encodeURIComponent(s.product)}`;
  const check = await fetch(url, { headers: { authorization: await authorization() } });
  if (check.status !== 200) {
    throw new Error(`GET ${url} answered ${check.status}: ${(await check.text()).slice(0, 500)}`);
  }
  const pids = listenerPids(Number(new URL(s.gatewayUrl).port || 80));
  return {
    name: 'gateway',
    url,
    description: `gateway cached product read: GET /v1/products/${s.product} with a bearer token`,
    serverPids: pids,
    authorization,
  };
}
