import { tracing } from './instrument';
import { runMain } from '@saga-lab/runtime';
import { loadConfig } from './config';
import { startGateway } from './gateway';

runMain('gateway', () => startGateway(loadConfig()), tracing);
