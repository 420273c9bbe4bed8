import type { ServiceDeps, ServiceSpec } from '@saga-lab/runtime';
import { SagaReaper, SagaStore, systemClock } from '@saga-lab/saga';
import { configSchema } from './config';
import { skewedClock, startOrderService } from './service';

// The service's wiring without a database or a broker: bootService hands back the spec it was given.
jest.mock('@saga-lab/runtime', () => ({
  ...jest.requireActual<object>('@saga-lab/runtime'),
  bootService: jest.fn(async (spec: unknown) => ({ spec })),
}));

const config = (env: NodeJS.ProcessEnv = {}) =>
  configSchema.parse({
    ORDER_DATABASE_URL: 'postgres://orders:secret@127.0.0.1:15432/orders',
    KAFKA_BROKERS: '127.0.0.1:19092',
    ...env,
  });

const specOf = async (env: NodeJS.ProcessEnv = {}): Promise<ServiceSpec> =>
  ((await startOrderService(config(env), console)) as unknown as { spec: ServiceSpec }).spec;

describe('the order service under the failure lab’s switches', () => {
  it('runs the saga reaper by default, and hands boot the lab switches', async () => {
    const spec = await specOf();
    expect(spec.lab?.off.size).toBe(0);
    expect(spec.background?.({ dataSource: {} } as ServiceDeps)).toBeInstanceOf(SagaReaper);
  });

  it('starts no reaper when the lab switched it off', async () => {
    const spec = await specOf({ SAGA_LAB_LAB_RUN: 'run-1', SAGA_LAB_SAFEGUARDS_OFF: 'reaper' });
    expect(spec.lab?.on('reaper')).toBe(false);
    expect(spec.background).toBeUndefined();
  });

  it('refuses the switches and the relay knobs outside a lab run', async () => {
    await expect(specOf({ SAGA_LAB_SAFEGUARDS_OFF: 'reaper' })).rejects.toThrow(/failure-lab run/);
    await expect(specOf({ SAGA_LAB_CLOCK_SKEW_MS: '5000' })).rejects.toThrow(/failure-lab run/);
    await expect(specOf({ SAGA_LAB_DUPLICATE_DELIVERY: 'true' })).rejects.toThrow(/failure-lab run/);
    await expect(specOf({ SAGA_LAB_OUTBOX_RELAY: 'off' })).rejects.toThrow(/failure-lab run/);
  });

  it('sets saga deadlines on the skewed clock', async () => {
    const spec = await specOf({ SAGA_LAB_LAB_RUN: 'run-1', SAGA_LAB_CLOCK_SKEW_MS: '600000' });
    const saga = spec
      .providers?.({} as ServiceDeps)
      .map((p) => (p as { useValue?: unknown }).useValue)
      .find((v): v is SagaStore<unknown> => v instanceof SagaStore);
    const clock = (saga as unknown as { clock: typeof systemClock }).clock;
    expect(clock.now().getTime() - Date.now()).toBeGreaterThanOrEqual(599_000);
  });
});

describe('skewedClock', () => {
  it('is the system clock without a skew, and shifted by the skew with one', () => {
    expect(skewedClock(0)).toBe(systemClock);
    const ahead = skewedClock(60_000).now().getTime() - Date.now();
    const behind = skewedClock(-60_000).now().getTime() - Date.now();
    expect(ahead).toBeGreaterThanOrEqual(59_000);
    expect(ahead).toBeLessThanOrEqual(60_000);
    expect(behind).toBeLessThanOrEqual(-59_000);
  });
});
