export { requireEnv } from './env';
export { uniqueName } from './names';
export { waitUntil, type WaitOptions } from './wait';
export { testKafka } from './kafka';
