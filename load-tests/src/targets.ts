import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Starts the bare node:http baseline (hello-world.ts, plain Node type stripping) as its own process. */
export async function startHelloWorld(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON', path.join(__dirname, 'hello-world.ts')],
    { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] },
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
  return { url, child };
}

/** SIGTERM, then SIGKILL after 5 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
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

/** Calls the gateway; a refusal or an unexpected status is an error that names the call. */
export async function call(
  method: string,
  url: string,
  options: { body?: unknown; headers?: Record<string, string>; expect?: readonly number[] } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (cause) {
    throw new Error(`${method} ${url} got no answer — is the system up (npm start)?`, { cause });
  }
  const text = await response.text();
  const expect = options.expect ?? [200];
  if (!expect.includes(response.status))
    throw new Error(`${method} ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as unknown) : undefined,
    headers: response.headers,
  };
}

/** A bearer token for a user (access tokens live 5 min by default: scenarios are shorter, or log in again). */
export async function login(gatewayUrl: string, username: string, password: string): Promise<string> {
  const { body } = await call('POST', `${gatewayUrl}/v1/auth/token`, {
    body: { grant_type: 'password', username, password },
  });
  const token = (body as { access_token?: string }).access_token;
  if (!token) throw new Error(`the gateway gave ${username} no access_token`);
  return token;
}
