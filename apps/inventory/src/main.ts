import { tracing } from './instrument';
import { runMain } from '@saga-lab/runtime';
import { loadConfig } from './config';
import { startInventoryService } from './service';

runMain('inventory', () => startInventoryService(loadConfig()), tracing);
