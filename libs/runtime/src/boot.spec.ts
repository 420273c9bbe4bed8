import type { LoggerService } from '@nestjs/common';
import { ServiceMetrics } from '@saga-lab/observability';
import { seriesValue } from '@saga-lab/testing';
import { announceLab, safeguardsOff } from './boot';
import { labSwitches, relayKnobs } from './config';

function recordingLogger(): { logger: LoggerService; warnings: string[] } {
  const warnings: string[] = [];
  const ignore = (): void => undefined;
  return {
    warnings,
    logger: { log: ignore, error: ignore, warn: (message: unknown) => void warnings.push(String(message)) },
  };
}

const lab = (off: string, clockSkewMs = 0, labRun: string | undefined = 'run-1') =>
  labSwitches('order', {
    SAGA_LAB_LAB_RUN: labRun,
    SAGA_LAB_SAFEGUARDS_OFF: off ? (off.split(',') as never) : [],
    SAGA_LAB_CLOCK_SKEW_MS: clockSkewMs,
  });

describe('the failure lab at boot', () => {
  it('lists the safeguards switched off, in their canonical order', () => {
    expect(safeguardsOff(undefined)).toEqual([]);
    expect(safeguardsOff(lab(''))).toEqual([]);
    expect(safeguardsOff(lab('reaper,inbox'))).toEqual(['inbox', 'reaper']);
  });

  it('warns once, naming every safeguard off, and reports each on /metrics', async () => {
    const metrics = new ServiceMetrics('order');
    const { logger, warnings } = recordingLogger();
    announceLab('order', lab('outbox,inbox', 90_000), metrics, logger);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /FAILURE LAB run run-1: order runs with safeguards OFF: inbox, outbox; clock skewed by 90000 ms/,
    );
    const text = await metrics.registry.metrics();
    const off = (safeguard: string): number | undefined =>
      seriesValue(text, 'saga_lab_safeguard_off', { safeguard, service: 'order' });
    expect([off('inbox'), off('outbox'), off('reaper'), off('provider-idempotency')]).toEqual([1, 1, 0, 0]);
  });

  it('says nothing and adds no gauge when every safeguard is on', async () => {
    for (const switches of [undefined, lab(''), lab('', 0, undefined)]) {
      const metrics = new ServiceMetrics('order');
      const { logger, warnings } = recordingLogger();
      announceLab('order', switches, metrics, logger);
      expect(warnings).toEqual([]);
      expect(await metrics.registry.metrics()).not.toContain('saga_lab_safeguard_off');
    }
  });
});

describe('relay knobs', () => {
  const knobs = (relay: 'on' | 'off', duplicates: 'true' | 'false', run?: string) =>
    relayKnobs({
      SAGA_LAB_LAB_RUN: run,
      SAGA_LAB_OUTBOX_RELAY: relay,
      SAGA_LAB_DUPLICATE_DELIVERY: duplicates,
    });

  it('defaults to a running relay that publishes once, with or without a lab run', () => {
    expect(knobs('on', 'false')).toEqual({ enabled: true, duplicateDelivery: false });
    expect(knobs('on', 'false', 'run-1')).toEqual({ enabled: true, duplicateDelivery: false });
  });

  it('accepts a stopped relay or duplicate delivery only in a lab run', () => {
    expect(knobs('off', 'true', 'run-1')).toEqual({ enabled: false, duplicateDelivery: true });
    expect(() => knobs('off', 'false')).toThrow(/SAGA_LAB_OUTBOX_RELAY=off .* only in a failure-lab run/);
    expect(() => knobs('on', 'true')).toThrow(
      /SAGA_LAB_DUPLICATE_DELIVERY=true .* only in a failure-lab run/,
    );
  });
});
