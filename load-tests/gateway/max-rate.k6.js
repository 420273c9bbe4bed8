// One step of the gateway benchmark: GET one URL at a fixed arrival rate (open model: k6 starts RATE
// iterations per second whatever the server's latency; when no VU is free, the iteration is dropped and
// counted in `dropped_iterations`). Driven by load-tests/gateway/run.ts, which steps RATE up.
//
//   TARGET_URL     the URL to GET (required)
//   AUTHORIZATION  optional Authorization header value, e.g. "Bearer eyJ…"
//   RATE           iterations per second (default 1000); DURATION (default 10s)
//   PRE_VUS/MAX_VUS  VU pool (defaults scale with RATE); SUMMARY_FILE  where handleSummary writes JSON
import http from 'k6/http';
import { Counter } from 'k6/metrics';

const TARGET_URL = __ENV.TARGET_URL;
if (!TARGET_URL) throw new Error('TARGET_URL is not set');
const RATE = Number(__ENV.RATE || 1000);
const DURATION = __ENV.DURATION || '10s';
const PRE_VUS = Number(__ENV.PRE_VUS || Math.min(1000, Math.max(50, Math.ceil(RATE / 20))));
const MAX_VUS = Number(__ENV.MAX_VUS || Math.min(2000, Math.max(200, Math.ceil(RATE / 4))));
const MAX_ERROR_RATE = Number(__ENV.MAX_ERROR_RATE || 0.01);
const MAX_DROPPED = Math.floor(RATE * parseSeconds(DURATION) * Number(__ENV.MAX_DROPPED_SHARE || 0.01));

export const options = {
  discardResponseBodies: true,
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(95)', 'p(99)'],
  scenarios: {
    max_rate: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: PRE_VUS,
      maxVUs: MAX_VUS,
      gracefulStop: '10s',
    },
  },
  // The same limits run.ts uses to decide whether a step held; crossing one makes k6 exit 99.
  thresholds: {
    http_req_failed: [`rate<${MAX_ERROR_RATE}`],
    dropped_iterations: [`count<=${MAX_DROPPED}`],
  },
};

const status429 = new Counter('status_429');
const status5xx = new Counter('status_5xx');
const statusOther = new Counter('status_other');

// No check() per request: at these rates k6 itself is the bottleneck on a small machine, and every metric
// sample costs it CPU. http_req_failed (any status outside 200–399, or no response) and the counters above
// say what failed.
const params = {
  headers: __ENV.AUTHORIZATION ? { Authorization: __ENV.AUTHORIZATION } : {},
  tags: { name: 'target' },
  timeout: '10s',
};

export default function () {
  const res = http.get(TARGET_URL, params);
  if (res.status === 429) status429.add(1);
  else if (res.status >= 500) status5xx.add(1);
  else if (res.status !== 200) statusOther.add(1); // includes 0: connection errors and timeouts
}

export function handleSummary(data) {
  return __ENV.SUMMARY_FILE ? { [__ENV.SUMMARY_FILE]: JSON.stringify(data) } : {};
}

function parseSeconds(duration) {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(duration);
  if (!match) throw new Error(`DURATION=${duration} is not like 500ms, 10s or 1m`);
  const value = Number(match[1]);
  return match[2] === 'ms' ? value / 1000 : match[2] === 'm' ? value * 60 : value;
}
