import { LINKS } from './links';
import type { System } from './system';

const stub = (isTestProfile: boolean): System =>
  ({
    isTestProfile,
    env: (name: string) =>
      ({
        DATABASE_URL: 'postgres://postgres:pw@127.0.0.1:15432/postgres',
        KAFKA_PROXIED_BROKERS: '127.0.0.1:19095',
        KAFKA_PROXIED_UPSTREAM: '127.0.0.1:19094',
      })[name] ?? '',
    address: () => 'http://127.0.0.1:13002',
  }) as unknown as System;

describe('proxied links', () => {
  it('point the service at the proxy with the variable its profile reads', () => {
    // The test profile reads only SAGA_LAB_TEST_<VAR>: a plain DATABASE_URL would leave the link direct.
    expect(LINKS['payment-postgres'].proxy(stub(true)).env).toEqual({
      SAGA_LAB_TEST_DATABASE_URL: 'postgres://postgres:pw@127.0.0.1:18476/postgres',
    });
    expect(LINKS['payment-postgres'].proxy(stub(false)).env).toEqual({
      DATABASE_URL: 'postgres://postgres:pw@127.0.0.1:8476/postgres',
    });
    expect(LINKS['inventory-kafka'].proxy(stub(true)).env).toEqual({
      SAGA_LAB_TEST_KAFKA_BROKERS: '127.0.0.1:19095',
    });
    expect(LINKS['order-inventory'].proxy(stub(true))).toEqual({
      listen: '127.0.0.1:18477',
      upstream: '127.0.0.1:13002',
      env: { SAGA_LAB_TEST_INVENTORY_URL: 'http://127.0.0.1:18477', ORDER_INVENTORY_DISCOVERY: 'static' },
    });
  });
});
