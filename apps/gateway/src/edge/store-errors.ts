import { AppError } from '@saga-lab/errors';
import { GatewayError } from '../errors';

/**
 * Runs a Redis operation of the edge; if Redis fails, the client gets a 503 with Retry-After (the state
 * the answer depends on is out of reach for now), not a 500.
 */
export async function withStore<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new GatewayError('STORE_UNAVAILABLE', `${what} is unavailable; retry shortly`, {
      headers: { 'retry-after': '1' },
      cause: error,
    });
  }
}
