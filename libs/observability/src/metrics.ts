import { Controller, Get, Header, Inject } from '@nestjs/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per service process: the messaging metrics every service has, plus Node's defaults. */
export class ServiceMetrics {
  readonly registry = new Registry();
  /** Outbox: time from the state change's commit to Kafka's acknowledgement of its message. */
  readonly outboxPublishLag = new Histogram({
    name: 'saga_lab_outbox_publish_lag_seconds',
    help: 'Time from an outbox row being committed to Kafka acknowledging it',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly messagesFailed = new Counter({
    name: 'saga_lab_messages_failed_total',
    help: 'Messages whose handler failed, by where they were routed (retry topic or DLQ)',
    labelNames: ['topic', 'routed_to'] as const,
    registers: [this.registry],
  });

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
  }
}

/** `/metrics` in the Prometheus text format. */
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(ServiceMetrics) private readonly metrics: ServiceMetrics) {}

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
