import { tracing } from './instrument';
import { runMain } from '@saga-lab/runtime';
import { loadConfig } from './config';
import { startPaymentService } from './service';

runMain('payment', () => startPaymentService(loadConfig()), tracing);
