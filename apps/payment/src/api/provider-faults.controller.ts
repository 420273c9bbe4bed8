import { Body, Controller, Get, Inject, Put } from '@nestjs/common';
import { parseInput } from '@saga-lab/observability';
import { z } from 'zod';
import { PAYMENT_PROVIDER } from '../messaging/payment-commands.controller';
import {
  PROVIDER_OPERATIONS,
  type ProviderFaults,
  type ProviderSimulator,
} from '../provider/provider-simulator';

const rate = z.number().min(0).max(1);
const faultsBody = z
  .object({
    declineRate: rate,
    latencyMs: z.number().int().min(0).max(60_000),
    timeoutRate: rate,
    lostResponseRate: rate,
    operations: z.array(z.enum(PROVIDER_OPERATIONS)).max(PROVIDER_OPERATIONS.length),
  })
  .partial()
  .strict();

/** The failure lab's knobs on the payment-provider simulator (internal API; loopback only). */
@Controller('provider/faults')
export class ProviderFaultsController {
  constructor(@Inject(PAYMENT_PROVIDER) private readonly provider: ProviderSimulator) {}

  @Get()
  current(): ProviderFaults {
    return this.provider.faults;
  }

  @Put()
  change(@Body() body: unknown): ProviderFaults {
    this.provider.setFaults(parseInput(faultsBody, body, 'body'));
    return this.provider.faults;
  }
}
