import type { Scenario } from '../scenario';
import { PRODUCT_READ, READ_PATH, freePort, productReads, size, waitReady } from './common';

const FULL = { rate: 8_000, durationS: 30 };

export const scaleOut: Scenario = {
  name: 'scale-out',
  title: 'scale-out: one gateway process against two',
  question:
    'Does a second gateway process raise what the product read sustains on this machine, or do two cores shared with the generator and the rest of the system leave nothing to gain?',
  variants: [
    {
      name: 'one gateway',
      prepare: (ctx) => productReads(ctx, READ_PATH),
      attacks: (mode) => [{ name: 'read', ...size(mode, FULL), request: PRODUCT_READ }],
      thresholds: () => [{ attack: 'read', metric: 'errorRate', max: 0.001 }],
    },
    {
      name: 'two gateways',
      // A second instance on its own port, registered in Consul like the first; the generator spreads
      // requests over both (what a load balancer in front of them would do).
      prepare: async (ctx) => {
        const first = await productReads(ctx, READ_PATH);
        const port = await freePort();
        const extra = ctx.system.spawnExtra('gateway', port);
        const url = `http://127.0.0.1:${port}`;
        try {
          await waitReady(`${url}/health/ready`);
        } catch (error) {
          extra.kill('SIGKILL');
          throw error;
        }
        return {
          vars: { ...first.vars, GATEWAYS: `${first.vars['GATEWAY_URL']},${url}` },
          processes: { ...first.processes, 'gateway-2': extra.pid as number },
          cleanup: async () => {
            const exited = new Promise((resolve) => extra.once('exit', resolve));
            extra.kill('SIGTERM');
            await exited;
            await first.cleanup?.();
          },
        };
      },
      attacks: (mode) => [
        {
          name: 'read',
          ...size(mode, FULL),
          request: { ...PRODUCT_READ, url: '{{pick:GATEWAYS}}/v1/products/{{pick:PRODUCTS}}' },
        },
      ],
      thresholds: () => [{ attack: 'read', metric: 'errorRate', max: 0.001 }],
    },
  ],
};
