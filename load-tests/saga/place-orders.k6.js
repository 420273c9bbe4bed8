// Places orders at a fixed arrival rate (open model: the rate does not slow down when the system does).
// The saga's completion is measured afterwards from the orders' own timestamps, not here: POST /orders
// answers 202 as soon as the order and its saga are committed.
import http from 'k6/http';
import { check } from 'k6';

const RATE = Number(__ENV.RATE || 50);
const DURATION = __ENV.DURATION || '20s';
const ORDER_URL = __ENV.ORDER_URL || 'http://127.0.0.1:3001';
const CUSTOMER = __ENV.CUSTOMER || 'load';
const PRODUCT = __ENV.PRODUCT || 'load-test-beans';

export const options = {
  discardResponseBodies: true,
  scenarios: {
    orders: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: Math.max(20, RATE),
      maxVUs: Math.max(50, RATE * 4),
    },
  },
  thresholds: { 'checks{accepted:yes}': ['rate>0.99'] },
};

const body = JSON.stringify({ customerId: CUSTOMER, lines: [{ productId: PRODUCT, quantity: 1 }] });
const params = { headers: { 'content-type': 'application/json' }, tags: { name: 'POST /orders' } };

export default function () {
  const res = http.post(`${ORDER_URL}/orders`, body, params);
  check(res, { 'accepted (202)': (r) => r.status === 202 }, { accepted: 'yes' });
}
