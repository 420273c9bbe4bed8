import type { Money } from '@saga-lab/contracts';
import { AppError } from '@saga-lab/errors';

export type ChargeKind = 'AUTHORIZE' | 'CAPTURE' | 'VOID' | 'REFUND';
export type ProviderOutcome = 'APPROVED' | 'DECLINED';

/** What the provider recorded under one idempotency key. */
export interface ProviderCharge {
  readonly idempotencyKey: string;
  /** The provider's own id for this operation; an authorization's ref is what capture, void and refund name. */
  readonly providerRef: string;
  readonly kind: ChargeKind;
  readonly orderId: string;
  readonly amount: Money;
  readonly outcome: ProviderOutcome;
}

export interface AuthorizeRequest {
  readonly idempotencyKey: string;
  readonly orderId: string;
  readonly amount: Money;
}

export interface CaptureRequest {
  readonly idempotencyKey: string;
  readonly orderId: string;
  readonly authorizationRef: string;
  readonly amount: Money;
}

export interface VoidRequest {
  readonly idempotencyKey: string;
  readonly orderId: string;
  readonly authorizationRef: string;
}

export type RefundRequest = CaptureRequest;

/**
 * The payment provider as the service sees it: a remote system that may be slow, time out, or lose a
 * response after acting on the request. Every call carries an idempotency key; repeating a call with the
 * same key returns what was recorded the first time and never charges again.
 */
export interface PaymentProvider {
  authorize(request: AuthorizeRequest): Promise<ProviderCharge>;
  capture(request: CaptureRequest): Promise<ProviderCharge>;
  voidAuthorization(request: VoidRequest): Promise<ProviderCharge>;
  refund(request: RefundRequest): Promise<ProviderCharge>;
  /** What the provider recorded under a key: how a caller learns the fate of a call whose response it lost. */
  find(idempotencyKey: string): Promise<ProviderCharge | undefined>;
}

export type ProviderErrorCode =
  'PROVIDER_TIMEOUT' | 'PROVIDER_RESPONSE_LOST' | 'PROVIDER_REJECTED' | 'IDEMPOTENCY_KEY_REUSED';

/** A failed provider call. `retriable` tells the messaging layer whether redelivering the command may help. */
export class ProviderError extends AppError<ProviderErrorCode> {
  constructor(code: ProviderErrorCode, retriable: boolean, message: string) {
    super(code, message, { retriable });
  }
}

/** The caller gave up waiting; the provider may still act on the request (and usually does). */
export class ProviderTimeout extends ProviderError {
  constructor(message: string) {
    super('PROVIDER_TIMEOUT', true, message);
  }
}

/** The provider acted on the request, but its answer never reached the caller. */
export class ProviderResponseLost extends ProviderError {
  constructor(message: string) {
    super('PROVIDER_RESPONSE_LOST', true, message);
  }
}

/** The provider refused the request as invalid; sending it again cannot succeed. */
export class ProviderRejected extends ProviderError {
  constructor(code: 'PROVIDER_REJECTED' | 'IDEMPOTENCY_KEY_REUSED', message: string) {
    super(code, false, message);
  }
}
