import { parseHit, summarize, toTarget, type Hit } from './vegeta';

describe('vegeta results', () => {
  it('parses a CSV result line, quoted errors with commas included', () => {
    expect(parseHit('1795951034317563648,200,6143293,0,2,,,x,7,GET,http://h/,SGVhZGVy')).toEqual({
      sentMs: 1795951034317.563,
      latencyMs: 6.143293,
      code: 200,
      error: '',
      seq: 7,
    });
    const hit = parseHit(
      '1000000000,0,5000000,0,0,"Get ""http://h/"": dial tcp: refused, really",,x,3,GET,http://h/,',
    );
    expect(hit).toMatchObject({ code: 0, error: 'Get "http://h/": dial tcp: refused, really', seq: 3 });
    expect(parseHit('garbage')).toBeUndefined();
  });

  it('writes targets in its JSON format, the body base64', () => {
    expect(
      JSON.parse(toTarget({ method: 'POST', url: 'http://h/', headers: { a: 'b' }, body: '{}' })),
    ).toEqual({
      method: 'POST',
      url: 'http://h/',
      header: { a: ['b'] },
      body: Buffer.from('{}').toString('base64'),
    });
  });

  const def = { name: 'a', rate: 100, durationS: 2, request: { method: 'GET' as const, url: 'http://h/' } };
  const onTime = (seq: number, latencyMs: number, code = 200): Hit => ({
    sentMs: 1_000 + seq * 10,
    latencyMs,
    code,
    error: '',
    seq,
  });

  it('measures from the scheduled time: a generator that fell behind cannot hide the wait', () => {
    const hits = Array.from({ length: 200 }, (_, seq) => onTime(seq, 1));
    // Request 150 was sent 500 ms late (no worker free): it waited 500 ms before its 1 ms response.
    hits[150] = { ...onTime(150, 1), sentMs: 1_000 + 150 * 10 + 500 };
    const result = summarize(def, hits);
    expect(result.latency.p50Ms).toBe(1);
    expect(result.latency.maxMs).toBe(501);
    expect(result.requests).toBe(200);
    expect(result.errorRate).toBe(0);
    expect(result.achievedRate).toBe(100);
    expect(result.series.map((s) => [s.t, s.requests])).toEqual([
      [0, 100],
      [1, 100],
    ]);
  });

  it('counts non-ok statuses and transport errors as errors, by reason', () => {
    // vegeta also writes a non-2xx status into the error field: the status decides.
    const hits = [
      onTime(0, 1),
      { ...onTime(1, 1, 503), error: '503 Service Unavailable' },
      { ...onTime(2, 10_000, 0), error: 'timeout' },
      { ...onTime(3, 1, 429), error: '429 Too Many Requests' },
    ];
    const result = summarize({ ...def, okStatuses: [200, 429] }, hits);
    expect(result.errorRate).toBe(0.5);
    expect(result.statuses).toEqual({ '0': 1, '200': 1, '429': 1, '503': 1 });
    expect(result.errors).toEqual({ 'status 503': 1, timeout: 1 });
  });
});
