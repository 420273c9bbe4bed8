import {
  AuthorizePayment,
  ContractViolation,
  MESSAGES,
  ReserveStock,
  TOPICS,
  TOPIC_SPECS,
  createEnvelope,
  deadLetterTopic,
  messageDefinition,
  parseEnvelope,
  retryTopic,
} from './index';

const orderId = '3f0b6c1e-9a51-4f0e-8c2d-6b7a1e5d4c3b';

describe('topics', () => {
  it('are all named <domain>.<kind>.v<N> and have a spec', () => {
    for (const topic of Object.values(TOPICS)) {
      expect(topic).toMatch(/^[a-z]+\.(commands|replies|events)\.v\d+$/);
      expect(TOPIC_SPECS[topic].partitions).toBeGreaterThan(0);
    }
  });

  it('give every consumer group its own retry and dead-letter topic', () => {
    expect(retryTopic('inventory-service')).toBe('inventory-service.retry.v1');
    expect(deadLetterTopic('inventory-service')).toBe('inventory-service.dlq.v1');
  });
});

describe('message definitions', () => {
  it('have unique types, and each lives on a known topic matching its kind', () => {
    const types = MESSAGES.map((m) => m.type);
    expect(new Set(types).size).toBe(types.length);
    expect(types).toHaveLength(17);
    for (const m of MESSAGES) {
      expect(Object.values(TOPICS)).toContain(m.topic);
      expect(m.topic.split('.')[1]).toBe({ command: 'commands', reply: 'replies', event: 'events' }[m.kind]);
      expect(messageDefinition(m.type)).toBe(m);
    }
  });

  it('key every order message by order id, so one order stays on one partition', () => {
    expect(ReserveStock.key({ orderId, lines: [{ productId: 'espresso-beans', quantity: 2 }] })).toBe(
      orderId,
    );
  });
});

describe('envelopes', () => {
  const meta = { correlationId: 'req-42', sagaId: orderId };

  it('round-trip through JSON with identity and causality', () => {
    const sent = createEnvelope(
      ReserveStock,
      { orderId, lines: [{ productId: 'espresso-beans', quantity: 2 }] },
      meta,
    );
    const received = parseEnvelope(ReserveStock, JSON.parse(JSON.stringify(sent)));
    expect(received).toEqual(sent);
    expect(received.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(received).toMatchObject({
      type: 'inventory.ReserveStock',
      schemaVersion: 1,
      causationId: null,
      sagaId: orderId,
    });
  });

  it('refuse to create a message its contract rejects', () => {
    expect(() =>
      createEnvelope(
        AuthorizePayment,
        { orderId, customerId: 'c-1', amount: { amountMinor: 12.5, currency: 'EUR' } },
        meta,
      ),
    ).toThrow();
  });

  it('reject an invalid payload naming each bad field', () => {
    const bad = {
      ...createEnvelope(ReserveStock, { orderId, lines: [{ productId: 'tea', quantity: 1 }] }, meta),
    };
    bad.payload = { orderId: 'not-a-uuid', lines: [{ productId: 'tea', quantity: 0 }] };
    try {
      parseEnvelope(ReserveStock, bad);
      throw new Error('expected a ContractViolation');
    } catch (error) {
      expect(error).toBeInstanceOf(ContractViolation);
      const violation = error as ContractViolation;
      expect(violation.retriable).toBe(false);
      expect(violation.issues.map((i) => i.path)).toEqual(['orderId', 'lines.0.quantity']);
    }
  });

  it('reject a message of another type or version', () => {
    const other = createEnvelope(
      AuthorizePayment,
      { orderId, customerId: 'c-1', amount: { amountMinor: 1250, currency: 'EUR' } },
      meta,
    );
    expect(() => parseEnvelope(ReserveStock, other)).toThrow(
      'expected inventory.ReserveStock v1, got payment.AuthorizePayment v1',
    );
    expect(() =>
      parseEnvelope(ReserveStock, { ...other, type: 'inventory.ReserveStock', schemaVersion: 2 }),
    ).toThrow(/got inventory.ReserveStock v2/);
  });

  it('reject something that is not an envelope at all', () => {
    expect(() => parseEnvelope(ReserveStock, 'garbage')).toThrow(ContractViolation);
    expect(() => parseEnvelope(ReserveStock, { type: 'inventory.ReserveStock' })).toThrow('invalid envelope');
  });

  it('refuse duplicate products in one order', () => {
    expect(() =>
      createEnvelope(
        ReserveStock,
        {
          orderId,
          lines: [
            { productId: 'tea', quantity: 1 },
            { productId: 'tea', quantity: 2 },
          ],
        },
        meta,
      ),
    ).toThrow(/each product at most once/);
  });
});
