import { toBody } from '@saga-lab/observability';
import type { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { GatewayError } from '../errors';
import type { GatewayMetrics } from '../metrics';
import { withStore } from './store-errors';

/** A response as the client first received it: replayed byte for byte for the same key. */
export interface StoredResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

interface Record_ {
  readonly state: 'in_flight' | 'done';
  readonly fingerprint: string;
  readonly response?: StoredResponse;
}

export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** While the first request runs, its key is held this long at most (a crashed gateway frees it then). */
const IN_FLIGHT_MS = 30_000;

/**
 * Idempotency keys with Stripe's semantics, stored in Redis per user and key: the first request runs
 * and its response (status, headers that matter, body) is kept for the retention window; a repeat with
 * the same parameters gets that response again; a repeat while the first still runs gets 409; the same
 * key with other parameters gets 422. A 5xx is not kept: the key is freed so the client can retry (the
 * order service de-duplicates the key too, so a retry cannot create a second order).
 */
export class IdempotencyStore {
  constructor(
    private readonly redis: Redis,
    private readonly retentionSeconds: number,
    private readonly metrics: GatewayMetrics,
  ) {}

  async run(
    scope: string,
    key: string,
    parameters: unknown,
    correlationId: string,
    execute: () => Promise<StoredResponse>,
  ): Promise<StoredResponse & { replayed: boolean }> {
    if (!IDEMPOTENCY_KEY.test(key)) {
      throw new GatewayError(
        'INVALID_IDEMPOTENCY_KEY',
        'Idempotency-Key must be 1–255 visible ASCII characters',
      );
    }
    const redisKey = `gw:idem:${scope}:${createHash('sha256').update(key).digest('base64url')}`;
    const fingerprint = createHash('sha256').update(JSON.stringify(parameters)).digest('base64url');
    const claimed = await withStore('the idempotency-key store', () =>
      this.redis.set(
        redisKey,
        JSON.stringify({ state: 'in_flight', fingerprint } satisfies Record_),
        'PX',
        IN_FLIGHT_MS,
        'NX',
      ),
    );
    if (claimed !== 'OK') return this.repeat(redisKey, fingerprint);

    this.metrics.idempotency.inc({ outcome: 'first' });
    let response: StoredResponse;
    try {
      response = await execute();
    } catch (error) {
      const { status, headers, body } = toBody(error, correlationId);
      if (status >= 500) {
        await this.redis.del(redisKey).catch(() => undefined);
        throw error;
      }
      // A refusal (4xx) is the answer to these parameters: it is kept and replayed like a success.
      response = { status, headers: { ...headers }, body };
    }
    // If this write fails the order still exists; a retry is then de-duplicated by the order service.
    await this.redis
      .set(
        redisKey,
        JSON.stringify({ state: 'done', fingerprint, response } satisfies Record_),
        'EX',
        this.retentionSeconds,
      )
      .catch(() => undefined);
    return { ...response, replayed: false };
  }

  private async repeat(
    redisKey: string,
    fingerprint: string,
  ): Promise<StoredResponse & { replayed: boolean }> {
    const raw = await withStore('the idempotency-key store', () => this.redis.get(redisKey));
    const record = raw ? (JSON.parse(raw) as Record_) : undefined;
    if (record && record.fingerprint !== fingerprint) {
      this.metrics.idempotency.inc({ outcome: 'mismatch' });
      throw new GatewayError(
        'IDEMPOTENCY_KEY_REUSED',
        'this Idempotency-Key was used with different parameters; use a new key for a new request',
      );
    }
    if (!record || record.state === 'in_flight' || !record.response) {
      // In flight (or freed a moment ago after a 5xx): the client should retry shortly.
      this.metrics.idempotency.inc({ outcome: 'in_flight' });
      throw new GatewayError(
        'IDEMPOTENCY_KEY_IN_USE',
        'a request with this Idempotency-Key is still being processed; retry shortly',
        { headers: { 'retry-after': '1' } },
      );
    }
    this.metrics.idempotency.inc({ outcome: 'replayed' });
    return { ...record.response, replayed: true };
  }
}
