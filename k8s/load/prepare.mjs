// The `prepare` step of the load Job (job.yaml): logs in to the gateway as the load user, reads the catalog
// and writes the run's requests as vegeta targets, one JSON object per line (`vegeta attack -format=json`).
// Plain Node, no dependencies: it runs in the gateway's image. The scenarios' names are also listed in
// infra/deploy/src/kind.ts (LOAD_SCENARIOS), which checks a name before a run is started.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

function fail(message) {
  process.stderr.write(`prepare: ${message}\n`);
  process.exit(1);
}

function setting(name) {
  const value = process.env[name];
  if (!value) fail(`${name} is not set (see k8s/load/job.yaml).`);
  return value;
}

const gateway = setting('GATEWAY_URL');
const scenario = setting('SCENARIO');
const rate = Number(setting('RATE'));
const durationS = Number(setting('DURATION_S'));
const targetsFile = setting('TARGETS_FILE');
if (!(rate > 0) || !(durationS > 0)) fail(`RATE and DURATION_S must be positive numbers.`);

const target = (method, path, token, extra = {}) => ({
  method,
  url: `${gateway}${path}`,
  header: { authorization: [`Bearer ${token}`], ...extra.header },
  ...(extra.body ? { body: Buffer.from(JSON.stringify(extra.body)).toString('base64') } : {}),
});

/**
 * What each scenario sends. vegeta goes round the targets in order and starts again at the first when it
 * reaches the end, so a read scenario lists each distinct request once; the orders scenario writes one
 * target per request of the run, each with its own Idempotency-Key (a repeated key would be answered from
 * the stored first response, without a new saga).
 */
const SCENARIOS = {
  // The cached product read, the gateway's hot path: every product of the first catalog page in turn.
  read: function* ({ token, products }) {
    for (const id of products) yield target('GET', `/v1/products/${encodeURIComponent(id)}`, token);
  },
  // A catalog page: the gateway asks the inventory service for it every time.
  list: function* ({ token }) {
    yield target('GET', '/v1/products?limit=20', token);
  },
  // Placing orders: each one a saga across order, inventory and payment. Stock runs out eventually; those
  // orders are rejected, which is a saga outcome too.
  orders: function* ({ token, products }) {
    const count = Math.ceil(rate * durationS * 1.05) + 10;
    for (let n = 0; n < count; n++) {
      yield target('POST', '/v1/orders', token, {
        header: { 'content-type': ['application/json'], 'idempotency-key': [randomUUID()] },
        body: { lines: [{ productId: products[n % products.length], quantity: 1 }] },
      });
    }
  },
};

async function request(method, path, { token, body } = {}) {
  const response = await fetch(`${gateway}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(5_000),
  });
  return { status: response.status, body: await response.json().catch(() => undefined) };
}

/** Logs in, waiting up to two minutes for a gateway that is still starting (or restarting). */
async function login() {
  const username = setting('LOAD_USER');
  const password = setting('LOAD_PASSWORD');
  const deadline = Date.now() + 120_000;
  for (;;) {
    let problem;
    try {
      const { status, body } = await request('POST', '/v1/auth/token', {
        body: { grant_type: 'password', username, password },
      });
      if (status === 200 && body?.access_token) return body.access_token;
      if (status === 401)
        fail(
          `the gateway refused ${username}'s password: the Secret load-credentials does not match its GATEWAY_USERS.`,
        );
      problem = `HTTP ${status}`;
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) fail(`could not log in at ${gateway} within 2 minutes (last: ${problem}).`);
    await sleep(2_000);
  }
}

const scenarioTargets = SCENARIOS[scenario];
if (!scenarioTargets) fail(`no scenario ${scenario}; there are: ${Object.keys(SCENARIOS).join(', ')}.`);

const token = await login();
const { status, body } = await request('GET', '/v1/products?limit=20', { token });
const products = (body?.items ?? []).map((item) => item.productId);
if (status !== 200 || products.length === 0)
  fail(
    `the catalog is empty or unreadable (GET /v1/products: HTTP ${status}); is the inventory service seeded?`,
  );

const out = createWriteStream(targetsFile);
let written = 0;
for (const line of scenarioTargets({ token, products })) {
  if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
  written++;
}
out.end();
await once(out, 'finish');
process.stdout.write(
  `prepare: ${scenario} — ${written} target(s) for ${rate} requests/s during ${durationS} s, ` +
    `as ${setting('LOAD_USER')} against ${gateway}\n`,
);
