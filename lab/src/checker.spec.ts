import { judge, type InvariantName, type Observation } from './checker';
import type { LoggedMessage } from './kafka-log';
import { orderServiceKey, type LabProduct, type OrderRecord } from './workload';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const products: LabProduct[] = [{ productId: 'p1', priceMinor: 100, stock: 10 }];
const at = new Date('2026-11-29T10:00:00Z');

/** A consistent world: A confirmed (2 units, 200), B cancelled after its payment was voided. */
function world(): {
  observation: Omit<
    Observation,
    'orders' | 'sagas' | 'reservations' | 'payments' | 'charges' | 'products' | 'replies'
  > & {
    orders: Observation['orders'][number][];
    sagas: Map<string, { saga_id: string; phase: string; state: string }>;
    reservations: Map<
      string,
      {
        order_id: string;
        reservation_id: string;
        status: string;
        lines: { productId: string; quantity: number }[];
      }
    >;
    payments: Map<
      string,
      {
        order_id: string;
        payment_id: string;
        customer_id: string | null;
        status: string;
        amount_minor: string | null;
      }
    >;
    charges: Map<
      string,
      {
        order_id: string;
        kind: 'AUTHORIZE' | 'CAPTURE' | 'VOID' | 'REFUND';
        amount_minor: string;
        outcome: string;
      }[]
    >;
    products: { product_id: string; available: number; reserved: number }[];
    replies: LoggedMessage[];
  };
  records: OrderRecord[];
} {
  const order = (id: string, status: string, key: string) => ({
    order_id: id,
    customer_id: 'c-alice',
    lines: [{ productId: 'p1', quantity: 2 }],
    total_minor: '200',
    currency: 'EUR',
    status,
    idempotency_key: orderServiceKey('alice', key),
    trace_id: null,
    created_at: at,
    updated_at: at,
  });
  const reply = (
    id: string,
    type: string,
    causationId: string,
    payload: Record<string, unknown>,
  ): LoggedMessage => ({
    topic: type.startsWith('inventory') ? 'inventory.replies.v1' : 'payment.replies.v1',
    messageId: `${causationId}-reply`,
    type,
    causationId,
    payload: { orderId: id, ...payload },
  });
  return {
    observation: {
      orders: [order(A, 'CONFIRMED', 'k-a'), order(B, 'CANCELLED', 'k-b')],
      sagas: new Map([
        [A, { saga_id: A, phase: 'COMPLETED', state: 'CONFIRMED' }],
        [B, { saga_id: B, phase: 'COMPENSATED', state: 'CANCELLED' }],
      ]),
      reservations: new Map([
        [
          A,
          {
            order_id: A,
            reservation_id: 'ra',
            status: 'RESERVED',
            lines: [{ productId: 'p1', quantity: 2 }],
          },
        ],
        [
          B,
          {
            order_id: B,
            reservation_id: 'rb',
            status: 'RELEASED',
            lines: [{ productId: 'p1', quantity: 2 }],
          },
        ],
      ]),
      payments: new Map([
        [
          A,
          { order_id: A, payment_id: 'pa', customer_id: 'c-alice', status: 'CAPTURED', amount_minor: '200' },
        ],
        [B, { order_id: B, payment_id: 'pb', customer_id: 'c-alice', status: 'VOIDED', amount_minor: '200' }],
      ]),
      charges: new Map([
        [
          A,
          [
            { order_id: A, kind: 'AUTHORIZE', amount_minor: '200', outcome: 'APPROVED' },
            { order_id: A, kind: 'CAPTURE', amount_minor: '200', outcome: 'APPROVED' },
          ],
        ],
        [
          B,
          [
            { order_id: B, kind: 'AUTHORIZE', amount_minor: '200', outcome: 'APPROVED' },
            { order_id: B, kind: 'VOID', amount_minor: '200', outcome: 'APPROVED' },
          ],
        ],
      ]),
      products: [{ product_id: 'p1', available: 8, reserved: 2 }],
      replies: [
        reply(A, 'inventory.StockReserved', 'cmd-a1', { reservationId: 'ra' }),
        reply(A, 'payment.PaymentAuthorized', 'cmd-a2', { paymentId: 'pa' }),
        reply(A, 'payment.PaymentCaptured', 'cmd-a3', { paymentId: 'pa' }),
        reply(B, 'inventory.StockReserved', 'cmd-b1', { reservationId: 'rb' }),
        reply(B, 'payment.PaymentAuthorized', 'cmd-b2', { paymentId: 'pb' }),
      ],
      outboxBacklog: 0,
    },
    records: [
      {
        n: 0,
        atMs: 0,
        customer: 'alice',
        idempotencyKey: 'k-a',
        lines: [],
        outcome: 'acknowledged',
        attempts: 1,
        orderId: A,
      },
      {
        n: 1,
        atMs: 100,
        customer: 'alice',
        idempotencyKey: 'k-b',
        lines: [],
        outcome: 'acknowledged',
        attempts: 2,
        orderId: B,
      },
    ],
  };
}

/** The value, or a failed test: the hand-made world always has it. */
function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the test world lacks this');
  return value;
}

const broken = (observation: Observation, records: OrderRecord[]): InvariantName[] =>
  judge(observation, { since: at, products, records }, at)
    .invariants.filter((i) => !i.holds)
    .map((i) => i.name);

describe('the invariant checker', () => {
  it('finds nothing wrong in a consistent world', () => {
    const { observation, records } = world();
    const verdict = judge(observation, { since: at, products, records }, at);
    expect(verdict.ok).toBe(true);
    expect(verdict.invariants.map((i) => i.name)).toEqual([
      'lost-write',
      'stuck',
      'stock',
      'money',
      'duplicate',
      'phantom-message',
      'lost-message',
    ]);
  });

  it('catches a lost write: an acknowledged order that is not in the database', () => {
    const { observation, records } = world();
    observation.orders.pop();
    const verdict = judge(observation, { since: at, products, records }, at);
    const lost = verdict.invariants.find((i) => i.name === 'lost-write');
    expect(lost).toMatchObject({ holds: false, offending: [B] });
  });

  it('catches a stuck saga and an order that disagrees with its saga', () => {
    const { observation, records } = world();
    observation.sagas.set(B, { saga_id: B, phase: 'COMPENSATING', state: 'RELEASING_STOCK' });
    expect(broken(observation, records)).toEqual(['stuck']);
    observation.orders[1] = { ...must(observation.orders[1]), status: 'PENDING' };
    expect(broken(observation, records)).toContain('stuck');
  });

  it('catches stock that is not conserved, and a reservation kept by a cancelled order', () => {
    const { observation, records } = world();
    observation.products[0] = { product_id: 'p1', available: 7, reserved: 2 };
    expect(broken(observation, records)).toEqual(['stock']);
    const second = world();
    second.observation.reservations.set(B, {
      ...must(second.observation.reservations.get(B)),
      status: 'RESERVED',
    });
    second.observation.products[0] = { product_id: 'p1', available: 6, reserved: 4 };
    expect(broken(second.observation, second.records)).toEqual(['stock']);
  });

  it('catches money held at the provider for a cancelled order even when the payment row looks fine', () => {
    const { observation, records } = world();
    observation.charges.set(B, [
      { order_id: B, kind: 'AUTHORIZE', amount_minor: '200', outcome: 'APPROVED' },
    ]);
    expect(broken(observation, records)).toEqual(['money']);
  });

  it('catches a capture kept for a cancelled order, and a confirmed order never captured', () => {
    const { observation, records } = world();
    must(observation.charges.get(B)).splice(1, 1, {
      order_id: B,
      kind: 'CAPTURE',
      amount_minor: '200',
      outcome: 'APPROVED',
    });
    expect(broken(observation, records)).toEqual(['money']);
    const second = world();
    second.observation.payments.set(A, { ...must(second.observation.payments.get(A)), status: 'AUTHORIZED' });
    expect(broken(second.observation, second.records)).toContain('money');
  });

  it('catches a second authorization at the provider for one order', () => {
    const { observation, records } = world();
    must(observation.charges.get(B)).push({
      order_id: B,
      kind: 'AUTHORIZE',
      amount_minor: '200',
      outcome: 'APPROVED',
    });
    expect(broken(observation, records)).toEqual(expect.arrayContaining(['duplicate', 'money']));
  });

  it('catches one key acknowledged as two orders, and a command processed twice', () => {
    const { observation, records } = world();
    records.push({ ...must(records[1]), orderId: A });
    expect(broken(observation, records)).toContain('duplicate');
    const second = world();
    second.observation.replies.push({ ...must(second.observation.replies[0]), messageId: 'another-reply' });
    expect(broken(second.observation, second.records)).toEqual(['duplicate']);
  });

  it('does not count a redelivered copy of the same reply as a duplicate', () => {
    const { observation, records } = world();
    observation.replies.push({ ...must(observation.replies[0]) });
    expect(broken(observation, records)).toEqual([]);
  });

  it('catches a reply naming a change that was rolled back, and a committed change never announced', () => {
    const { observation, records } = world();
    observation.replies[1] = {
      ...must(observation.replies[1]),
      payload: { orderId: A, paymentId: 'rolled-back' },
    };
    expect(broken(observation, records)).toEqual(expect.arrayContaining(['phantom-message', 'lost-message']));
    const second = world();
    second.observation.replies.splice(3, 1);
    expect(broken(second.observation, second.records)).toEqual(['lost-message']);
  });

  it('accepts a released reservation whose outcome was a rejection (it keeps the lines it was asked for)', () => {
    const { observation, records } = world();
    observation.replies.splice(3, 1, {
      topic: 'inventory.replies.v1',
      messageId: 'failed-reply',
      type: 'inventory.StockReservationFailed',
      causationId: 'cmd-b1',
      payload: { orderId: B, reason: 'OUT_OF_STOCK', unavailable: [] },
    });
    expect(broken(observation, records)).toEqual([]);
  });

  it('says the message invariants were not checked when Kafka was not read', () => {
    const { observation, records } = world();
    const verdict = judge({ ...observation, replies: null }, { since: at, products, records }, at);
    expect(verdict.ok).toBe(true);
    expect(verdict.invariants.filter((i) => !i.checked).map((i) => i.name)).toEqual([
      'phantom-message',
      'lost-message',
    ]);
  });
});
