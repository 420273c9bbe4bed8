import { Controller, Get, HttpCode, Inject, ServiceUnavailableException } from '@nestjs/common';

/** Readiness checks by name; each rejects (or times out) when its dependency is unusable. */
export type HealthChecks = Record<string, () => Promise<unknown>>;
export const HEALTH_CHECKS = Symbol('HEALTH_CHECKS');

/** Flipped to false when shutdown begins, so Consul and load balancers stop sending work first. */
export class Readiness {
  accepting = true;
}

const within = <T>(ms: number, work: Promise<T>): Promise<T> =>
  Promise.race([
    work,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref(),
    ),
  ]);

/**
 * `/health/live`: the process runs (restart it if not). `/health/ready`: every dependency answers and
 * the service is not shutting down (route traffic to it only then); 503 with each failing check otherwise.
 */
@Controller('health')
export class HealthController {
  constructor(
    @Inject(HEALTH_CHECKS) private readonly checks: HealthChecks,
    @Inject(Readiness) private readonly readiness: Readiness,
  ) {}

  @Get('live')
  @HttpCode(200)
  live(): { status: 'up' } {
    return { status: 'up' };
  }

  @Get('ready')
  async ready(): Promise<{ status: 'up'; checks: Record<string, 'up'> }> {
    const results = await Promise.all(
      Object.entries(this.checks).map(async ([name, check]) => {
        try {
          await within(1_500, check());
          return [name, 'up'] as const;
        } catch (error) {
          return [name, `down: ${(error as Error).message}`] as const;
        }
      }),
    );
    const failing = results.filter(([, state]) => state !== 'up');
    if (!this.readiness.accepting) failing.push(['service', 'down: shutting down']);
    if (failing.length > 0) {
      throw new ServiceUnavailableException({
        code: 'NOT_READY',
        message: 'not ready',
        details: Object.fromEntries(failing),
      });
    }
    return { status: 'up', checks: Object.fromEntries(results) as Record<string, 'up'> };
  }
}
