import type { MessageDefinition } from './envelope';
import * as inventory from './inventory/messages';
import * as order from './order/messages';
import * as payment from './payment/messages';

export * from './common';
export * from './envelope';
export * from './topics';
export * from './inventory/messages';
export * from './order/messages';
export * from './payment/messages';
export * from './participants';

/** Every message definition, for routing by `type` and for documentation. */
export const MESSAGES: readonly MessageDefinition<string, never>[] = [
  ...Object.values(inventory),
  ...Object.values(payment),
  ...Object.values(order),
] as MessageDefinition<string, never>[];

export function messageDefinition(type: string): MessageDefinition<string, never> | undefined {
  return MESSAGES.find((m) => m.type === type);
}
