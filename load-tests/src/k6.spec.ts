import vm from 'node:vm';
import { exportK6 } from './k6';
import type { AttackDef, Scenario } from './scenario';

interface SentRequest {
  method: string;
  url: string;
  body: string | null;
  params: {
    headers: Record<string, string>;
    timeout: string;
    tags: Record<string, string>;
    responseCallback: unknown;
  };
}

interface Loaded {
  options: {
    scenarios: Record<string, Record<string, unknown>>;
    thresholds: Record<string, string[]>;
    [key: string]: unknown;
  };
  exports: Record<string, unknown>;
  /** Runs the exec function `name` as iteration `n` of its scenario and returns the request it sent. */
  iterate(name: string, n: number): SentRequest;
  expectedStatuses: unknown[][];
}

/**
 * Evaluates a generated script the way k6 would, with stubs for the two k6 modules it may import: the
 * import lines become lookups of the stubs (any other import fails the test), `export` is dropped and the
 * exported names are collected. The script must therefore be valid JavaScript and import nothing else.
 */
function load(script: string, env: Record<string, string> = {}): Loaded {
  const sent: SentRequest[] = [];
  const expectedStatuses: unknown[][] = [];
  const execStub = { scenario: { iterationInTest: -1 } };
  const httpStub = {
    request: (method: string, url: string, body: string | null, params: SentRequest['params']) => {
      sent.push({ method, url, body, params });
    },
    expectedStatuses: (...args: unknown[]) => {
      expectedStatuses.push(args);
      return { expected: args };
    },
  };
  const modules: Record<string, unknown> = { 'k6/http': httpStub, 'k6/execution': execStub };
  const exported: string[] = [];
  const code = script
    .split('\n')
    .map((line) => {
      const imported = /^import (\w+) from '([^']+)';$/.exec(line);
      if (imported) {
        if (!(imported[2]! in modules)) throw new Error(`unexpected import: ${line}`);
        return `const ${imported[1]} = __modules[${JSON.stringify(imported[2])}];`;
      }
      if (/^\s*import\b/.test(line)) throw new Error(`unexpected import form: ${line}`);
      const exportedName = /^export (?:const|function) (\w+)/.exec(line);
      if (exportedName) {
        exported.push(exportedName[1]!);
        return line.slice('export '.length);
      }
      if (/^\s*export\b/.test(line)) throw new Error(`unexpected export form: ${line}`);
      return line;
    })
    .join('\n');
  const context = vm.createContext({ __modules: modules, __ENV: env });
  const exports = new vm.Script(`${code}\n({ ${exported.join(', ')} })`, {
    filename: 'script.js',
  }).runInContext(context) as Record<string, unknown>;
  // Plain objects of this realm, so that toEqual compares values only.
  const options = JSON.parse(JSON.stringify(exports['options'])) as Loaded['options'];
  return {
    options,
    exports,
    expectedStatuses,
    iterate(name, n) {
      const fn = exports[name];
      if (typeof fn !== 'function') throw new Error(`${name} is not an exported function`);
      execStub.scenario.iterationInTest = n;
      const before = sent.length;
      fn();
      expect(sent.length).toBe(before + 1);
      return sent[sent.length - 1]!;
    },
  };
}

const scenario: Scenario = {
  name: 'gateway-cache',
  title: 'Gateway product cache on vs off',
  question: 'How much CPU per request does the cache save?\nAnd latency?',
  variants: [
    {
      name: 'cache on',
      prepare: async () => ({ vars: {}, processes: {} }),
      attacks: (mode): AttackDef[] => [
        {
          name: 'read',
          rate: mode === 'full' ? 1000 : 10,
          durationS: mode === 'full' ? 30 : 2,
          request: {
            method: 'GET',
            url: '{{var:GATEWAY_URL}}/v1/products/{{pick:PRODUCTS}}',
            headers: { authorization: 'Bearer {{var:TOKEN}}' },
          },
        },
        {
          name: 'place order',
          rate: 50,
          durationS: 20,
          timeoutS: 5,
          okStatuses: [201, 409],
          request: {
            method: 'POST',
            url: '{{var:GATEWAY_URL}}/v1/orders',
            headers: { 'idempotency-key': '{{key:order:7}}', 'content-type': 'application/json' },
            // Quotes, a backslash, a template-literal opener, a backtick, a line separator and an unknown
            // placeholder: all literal text.
            body: '{"id":"{{uuid}}","seq":{{n}},"note":"a\\"b ${x} `\u2028 {{other}}"}',
          },
        },
      ],
      thresholds: (mode) => [
        { attack: 'read', metric: 'p99Ms', max: mode === 'full' ? 100 : 1000 },
        { attack: 'read', metric: 'p50Ms', max: 5 },
        { attack: 'read', metric: 'achievedRate', min: 990 },
        { attack: 'place order', metric: 'errorRate', max: 0.001 },
        { attack: 'place order', metric: 'maxMs', min: 1, max: 2000 },
      ],
    },
    {
      name: 'cache off',
      attacks: () => [
        {
          name: 'read',
          rate: 1000,
          durationS: 40,
          request: { method: 'GET', url: '{{var:GATEWAY_URL}}/x/{{n}}{{n}}' },
        },
      ],
    },
    // A variant without attacks takes no time and gets no k6 scenario.
    { name: 'empty', attacks: () => [] },
    {
      name: 'cache on',
      attacks: () => [
        { name: 'read', rate: 5, durationS: 1, request: { method: 'DELETE', url: 'http://h/{{n}}' } },
      ],
    },
  ],
};

const env = { GATEWAY_URL: 'http://gw:3000', TOKEN: 'tok"en', PRODUCTS: 'beans,,mug,filter' };

describe('exportK6', () => {
  const script = exportK6(scenario, 'full');
  const loaded = load(script, env);

  it('declares one constant-arrival-rate scenario per attack, variants one after another', () => {
    const { scenarios } = loaded.options;
    expect(Object.keys(scenarios)).toEqual([
      'cache_on__read',
      'cache_on__place_order',
      'cache_off__read',
      'cache_on__read_2',
    ]);
    expect(scenarios['cache_on__read']).toEqual({
      executor: 'constant-arrival-rate',
      rate: 1000,
      timeUnit: '1s',
      duration: '30s',
      preAllocatedVUs: 50,
      maxVUs: 500,
      startTime: '0s',
      gracefulStop: '10s',
      exec: 'cache_on__read',
      tags: { variant: 'cache on', attack: 'read' },
    });
    // The attacks of a variant start together; the next variant after the longest (30 s + 10 s grace) + 5 s.
    expect(scenarios['cache_on__place_order']).toMatchObject({
      rate: 50,
      duration: '20s',
      startTime: '0s',
      gracefulStop: '5s',
      exec: 'cache_on__place_order',
    });
    expect(scenarios['cache_off__read']).toMatchObject({ startTime: '45s', duration: '40s' });
    expect(scenarios['cache_on__read_2']).toMatchObject({
      startTime: '100s',
      duration: '1s',
      exec: 'cache_on__read_2',
    });
    for (const s of Object.values(scenarios)) {
      expect(s['maxVUs'] as number).toBeGreaterThan(s['preAllocatedVUs'] as number);
      expect(typeof loaded.exports[s['exec'] as string]).toBe('function');
    }
  });

  it('maps thresholds to k6 thresholds on the attack’s scenario', () => {
    expect(loaded.options.thresholds).toEqual({
      'http_req_duration{scenario:cache_on__read}': ['p(99)<100', 'p(50)<5'],
      // A counter's rate in k6 is over the whole test: the bound is on the count over the attack (990/s × 30 s).
      'http_reqs{scenario:cache_on__read}': ['count>=29700'],
      'http_req_failed{scenario:cache_on__place_order}': ['rate<0.001'],
      'http_req_duration{scenario:cache_on__place_order}': ['max<2000', 'max>=1'],
    });
  });

  it('uses the sizes of the mode it is given', () => {
    const smoke = load(exportK6(scenario, 'smoke'), env).options;
    expect(smoke.scenarios['cache_on__read']).toMatchObject({ rate: 10, duration: '2s' });
    expect(smoke.thresholds['http_req_duration{scenario:cache_on__read}']).toEqual(['p(99)<1000', 'p(50)<5']);
    // The longest attack of the first variant is now the 20 s one with a 5 s grace.
    expect(smoke.scenarios['cache_off__read']).toMatchObject({ startTime: '30s' });
  });

  it('renders the request templates per iteration', () => {
    const read = loaded.iterate('cache_on__read', 4);
    expect(read).toEqual({
      method: 'GET',
      url: 'http://gw:3000/v1/products/mug', // the list without its empty item, 4 mod 3 = 1
      body: null,
      params: {
        headers: { authorization: 'Bearer tok"en' },
        timeout: '10s',
        tags: { name: 'cache on/read' },
        responseCallback: { expected: [{ min: 200, max: 299 }] },
      },
    });
    expect(loaded.iterate('cache_on__read', 6).url).toBe('http://gw:3000/v1/products/beans');

    const order = loaded.iterate('cache_on__place_order', 23);
    expect(order.method).toBe('POST');
    expect(order.url).toBe('http://gw:3000/v1/orders');
    expect(order.params.headers).toEqual({
      'idempotency-key': 'order-2',
      'content-type': 'application/json',
    });
    expect(order.params.timeout).toBe('5s');
    expect(order.params.responseCallback).toEqual({ expected: [201, 409] });
    const body = JSON.parse(order.body as string) as { id: string; seq: number; note: string };
    expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(body.seq).toBe(23);
    expect(body.note).toBe('a"b ${x} `\u2028 {{other}}');
    expect(JSON.parse(loaded.iterate('cache_on__place_order', 24).body as string).id).not.toBe(body.id);

    // {{n}}{{n}} concatenates: 7 then 7, not 14.
    expect(loaded.iterate('cache_off__read', 7).url).toBe('http://gw:3000/x/77');
    expect(loaded.iterate('cache_on__read_2', 3)).toMatchObject({ method: 'DELETE', url: 'http://h/3' });
  });

  it('creates the expected-status callbacks once, at init', () => {
    expect(loaded.expectedStatuses).toEqual([
      [{ min: 200, max: 299 }],
      [201, 409],
      [{ min: 200, max: 299 }],
      [{ min: 200, max: 299 }],
    ]);
  });

  it('fails fast in setup() when a variable is missing or a list is empty', () => {
    expect(() => (loaded.exports['setup'] as () => void)()).not.toThrow();
    const setupWith = (partial: Record<string, string>) => () =>
      (load(script, partial).exports['setup'] as () => void)();
    expect(setupWith({ GATEWAY_URL: 'u', PRODUCTS: 'a' })).toThrow(/missing variables.*TOKEN/);
    expect(setupWith({ GATEWAY_URL: 'u', TOKEN: 't', PRODUCTS: ',' })).toThrow(/missing variables.*PRODUCTS/);
    expect(setupWith({})).toThrow(/GATEWAY_URL, TOKEN, PRODUCTS/);
  });

  it('documents the licence, the variables and the variants in its header', () => {
    const header = script.slice(0, script.indexOf('import '));
    expect(header.split('\n').every((line) => line === '' || line.startsWith('//'))).toBe(true);
    expect(header).toContain('AGPL');
    expect(header).toContain('-e GATEWAY_URL=… -e TOKEN=… -e PRODUCTS=…');
    expect(header).toMatch(/\/\/ {3}PRODUCTS\s+a comma-separated list/);
    expect(header).toContain('// And latency?');
    expect(header).toMatch(/from 0s: cache on — the project prepares the system/);
    expect(header).toMatch(/from 45s: cache off\n/);
    expect(script).not.toMatch(/import .* from '(?!k6\/)/);
  });

  it('refuses a threshold on an attack the variant does not have, and a scenario with nothing to run', () => {
    const wrong: Scenario = {
      ...scenario,
      variants: [
        { ...scenario.variants[1]!, thresholds: () => [{ attack: 'nope', metric: 'p99Ms', max: 1 }] },
      ],
    };
    expect(() => exportK6(wrong, 'full')).toThrow(/attack nope/);
    expect(() => exportK6({ ...scenario, variants: [{ name: 'v', attacks: () => [] }] }, 'full')).toThrow(
      /no attacks/,
    );
  });
});
