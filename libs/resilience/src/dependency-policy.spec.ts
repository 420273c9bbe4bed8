import { Deadline } from './deadline';
import { DependencyPolicy, type BreakerState, type DependencyPolicyOptions } from './dependency-policy';
import { DeadlineExceeded, DependencyUnavailable, UpstreamFailure } from './errors';

const options: DependencyPolicyOptions = {
  failureThreshold: 3,
  halfOpenAfterMs: 40,
  maxAttempts: 3,
  initialBackoffMs: 1,
  maxBackoffMs: 2,
  callTimeoutMs: 1_000,
};
const failure = (): UpstreamFailure => new UpstreamFailure('inventory', 'UPSTREAM_ERROR', 'answered 503');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('Deadline', () => {
  it('cuts each call to what is left of the budget', () => {
    let now = 1_000;
    const deadline = Deadline.within(300, () => now);
    expect(deadline.callTimeoutMs(1_000)).toBe(300);
    expect(deadline.callTimeoutMs(100)).toBe(100);
    now += 250;
    expect(deadline.callTimeoutMs(100)).toBe(50);
    now += 100;
    expect(deadline.remainingMs()).toBe(0);
    expect(deadline.expired()).toBe(true);
  });
});

describe('DependencyPolicy', () => {
  it('retries an idempotent call after upstream failures, and not a non-idempotent one', async () => {
    const policy = new DependencyPolicy('inventory', { ...options, failureThreshold: 10 });
    let calls = 0;
    const flaky = async (): Promise<string> => {
      calls += 1;
      if (calls < 3) throw failure();
      return 'ok';
    };
    await expect(policy.call(Deadline.within(1_000), true, flaky)).resolves.toBe('ok');
    expect(calls).toBe(3);

    calls = 0;
    await expect(policy.call(Deadline.within(1_000), false, flaky)).rejects.toBeInstanceOf(UpstreamFailure);
    expect(calls).toBe(1);
  });

  it('never retries what is not the dependency failing (a 4xx, a bug)', async () => {
    const policy = new DependencyPolicy('inventory', options);
    let calls = 0;
    await expect(
      policy.call(Deadline.within(1_000), true, async () => {
        calls += 1;
        throw new TypeError('bug');
      }),
    ).rejects.toBeInstanceOf(TypeError);
    expect(calls).toBe(1);
    expect(policy.state).toBe('closed');
  });

  it('gives each attempt the remaining budget, and stops when it is spent', async () => {
    let now = 0;
    const deadline = Deadline.within(500, () => now);
    const policy = new DependencyPolicy('inventory', {
      ...options,
      failureThreshold: 10,
      callTimeoutMs: 400,
    });
    const timeouts: number[] = [];
    const attempt = policy.call(deadline, true, async (timeoutMs) => {
      timeouts.push(timeoutMs);
      now += timeoutMs; // the attempt used its whole timeout
      throw new UpstreamFailure('inventory', 'UPSTREAM_TIMEOUT', 'no answer');
    });
    await expect(attempt).rejects.toBeInstanceOf(DeadlineExceeded);
    expect(timeouts).toEqual([400, 100]);
  });

  it('opens after consecutive failures, fails fast while open, half-opens and closes on recovery', async () => {
    const states: BreakerState[] = [];
    const policy = new DependencyPolicy('payment', { ...options, maxAttempts: 1 }, (s) => states.push(s));
    let healthy = false;
    let calls = 0;
    const call = (): Promise<string> =>
      policy.call(Deadline.within(1_000), false, async () => {
        calls += 1;
        if (!healthy) throw failure();
        return 'ok';
      });

    for (let i = 0; i < 3; i++) await expect(call()).rejects.toBeInstanceOf(UpstreamFailure);
    expect(policy.state).toBe('open');
    const rejected = await call().catch((error: unknown) => error);
    expect(rejected).toBeInstanceOf(DependencyUnavailable);
    expect((rejected as DependencyUnavailable).retryAfterMs).toBeLessThanOrEqual(40);
    expect(calls).toBe(3); // the open circuit did not call

    await sleep(60);
    healthy = true;
    await expect(call()).resolves.toBe('ok'); // the half-open trial call succeeds
    expect(policy.state).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('re-opens when the half-open trial fails', async () => {
    const policy = new DependencyPolicy('payment', { ...options, maxAttempts: 1, failureThreshold: 1 });
    const failing = (): Promise<never> =>
      policy.call(Deadline.within(1_000), false, async () => {
        throw failure();
      });
    await expect(failing()).rejects.toBeInstanceOf(UpstreamFailure);
    await sleep(60);
    await expect(failing()).rejects.toBeInstanceOf(UpstreamFailure);
    expect(policy.state).toBe('open');
  });
});
