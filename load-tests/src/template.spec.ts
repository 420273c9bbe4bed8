import { compile, isPerRequest, period, placeholders } from './template';

describe('request templates', () => {
  const template = {
    method: 'POST' as const,
    url: '{{var:BASE}}/v1/products/{{pick:IDS}}',
    headers: { authorization: 'Bearer {{var:TOKEN}}', 'idempotency-key': '{{key:storm:3}}' },
    body: '{"n":{{n}}}',
  };
  const vars = { BASE: 'http://127.0.0.1:1', TOKEN: 't0k', IDS: 'a,b' };

  it('lists the placeholders a template uses', () => {
    expect(placeholders(template).sort()).toEqual(['key:storm:3', 'n', 'pick:IDS', 'var:BASE', 'var:TOKEN']);
  });

  it('renders the n-th request: variables, round-robin picks, shared keys, sequence numbers', () => {
    const render = compile(template, vars);
    expect(render(0)).toEqual({
      method: 'POST',
      url: 'http://127.0.0.1:1/v1/products/a',
      headers: { authorization: 'Bearer t0k', 'idempotency-key': 'storm-0' },
      body: '{"n":0}',
    });
    expect(render(4)).toMatchObject({
      url: 'http://127.0.0.1:1/v1/products/a',
      headers: { 'idempotency-key': 'storm-1' },
      body: '{"n":4}',
    });
    expect(render(5).url).toBe('http://127.0.0.1:1/v1/products/b');
  });

  it('gives every request its own uuid', () => {
    const render = compile({ method: 'GET', url: 'http://h/{{uuid}}' }, {});
    expect(render(0).url).not.toBe(render(0).url);
    expect(render(0).url).toMatch(/^http:\/\/h\/[0-9a-f-]{36}$/);
  });

  it('refuses a variable the preparation did not give, naming it', () => {
    expect(() => compile(template, { BASE: 'x', IDS: 'a' })).toThrow(/no TOKEN/);
    expect(() => compile(template, { BASE: 'x', TOKEN: 't', IDS: '' })).toThrow(/IDS is empty/);
  });

  it('knows which templates need a stream and how long a fixed list cycles', () => {
    expect(isPerRequest(template)).toBe(true);
    const fixed = { method: 'GET' as const, url: '{{pick:IDS}}/{{key:k:3}}' };
    expect(isPerRequest(fixed)).toBe(false);
    expect(period(fixed, { IDS: 'a,b' })).toBe(6);
    expect(period({ method: 'GET', url: '{{pick:IDS}}/{{key:k:4}}' }, { IDS: 'a,b' })).toBe(4);
  });
});
