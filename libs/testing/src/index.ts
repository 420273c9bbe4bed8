export { requireEnv } from './env';
export { uniqueName } from './names';
export { waitUntil, type WaitOptions } from './wait';
export { untilConsuming } from './consuming';
export { testKafka } from './kafka';
export { startServiceProcess, type ServiceProcess } from './processes';
export { testSchema, type TestSchema } from './schema';
export { serveControllers } from './http-app';
export { runSchemathesis, type SchemathesisOutcome, type SchemathesisRun } from './schemathesis';
