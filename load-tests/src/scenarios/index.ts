import type { Scenario } from '../scenario';
import { baseline } from './baseline';
import { degraded } from './degraded';
import { idempotencyStorm } from './idempotency-storm';
import { ordersWrite } from './orders-write';
import { rateLimit } from './rate-limit';
import { read10k } from './read-10k';
import { scaleOut } from './scale-out';
import { query } from './query';
import { stampede } from './stampede';

/** Every scenario `npm run load` knows, in the order `all` runs them. */
export const SCENARIOS: readonly Scenario[] = [
  baseline,
  read10k,
  scaleOut,
  rateLimit,
  stampede,
  idempotencyStorm,
  ordersWrite,
  query,
  degraded,
];
