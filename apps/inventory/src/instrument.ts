// Imported first by main.ts: tracing must be in place before the modules it instruments (http, pg,
// ioredis) are loaded.
import { RELEASE, startTracingFrom } from '@saga-lab/observability';

export const tracing = startTracingFrom(process.env, { name: 'inventory', version: RELEASE });
