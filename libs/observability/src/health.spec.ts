import { ServiceUnavailableException } from '@nestjs/common';
import { HealthController, Readiness } from './health';

describe('HealthController', () => {
  it('is ready when every check answers', async () => {
    const controller = new HealthController(
      { database: async () => 1, kafka: async () => 'ok' },
      new Readiness(),
    );
    await expect(controller.ready()).resolves.toEqual({
      status: 'up',
      checks: { database: 'up', kafka: 'up' },
    });
  });

  it('names each failing check in a 503', async () => {
    const controller = new HealthController(
      {
        database: async () => {
          throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
        },
        kafka: async () => 'ok',
      },
      new Readiness(),
    );
    const error = (await controller.ready().catch((e: unknown) => e)) as ServiceUnavailableException;
    expect(error).toBeInstanceOf(ServiceUnavailableException);
    expect(error.getResponse()).toMatchObject({
      code: 'NOT_READY',
      details: { database: 'down: connect ECONNREFUSED 127.0.0.1:5432' },
    });
  });

  it('stops being ready once shutdown begins, while staying live', async () => {
    const readiness = new Readiness();
    const controller = new HealthController({}, readiness);
    readiness.accepting = false;
    await expect(controller.ready()).rejects.toBeInstanceOf(ServiceUnavailableException);
    expect(controller.live()).toEqual({ status: 'up' });
  });
});
