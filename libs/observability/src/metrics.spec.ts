import { MetricsController, ServiceMetrics } from './metrics';

describe('service metrics', () => {
  it('exposes the outbox publish lag and failure routing in the Prometheus format, labelled by service', async () => {
    const metrics = new ServiceMetrics('inventory');
    metrics.outboxPublishLag.observe(0.012);
    metrics.outboxPublishLag.observe(0.3);
    metrics.messagesFailed.inc({ topic: 'inventory.commands.v1', routed_to: 'dlq' });
    const text = await new MetricsController(metrics).scrape();
    expect(text).toContain('saga_lab_outbox_publish_lag_seconds_count{service="inventory"} 2');
    expect(text).toContain('saga_lab_outbox_publish_lag_seconds_bucket{le="0.025",service="inventory"} 1');
    expect(text).toContain(
      'saga_lab_messages_failed_total{topic="inventory.commands.v1",routed_to="dlq",service="inventory"} 1',
    );
    expect(text).toContain('process_cpu_user_seconds_total');
  });
});
