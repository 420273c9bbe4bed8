// Imported first by main.ts: tracing must be in place before the modules it instruments (http, pg,
// ioredis) are loaded.
import { RELEASE, startServiceTracing } from '@saga-lab/observability';

export const tracing = startServiceTracing(process.env, { name: 'order', version: RELEASE });
