import { tracing } from './instrument';
import { runMain } from '@saga-lab/runtime';
import { loadConfig } from './config';
import { startOrderService } from './service';

runMain('order', () => startOrderService(loadConfig()), tracing);
