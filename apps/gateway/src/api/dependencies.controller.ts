import { Controller, Get, Inject } from '@nestjs/common';
import { Upstreams } from '../upstream/upstreams';

/**
 * What the gateway sees of its dependencies: breaker state and healthy instances. Separate from
 * /health/ready on purpose — a service being down degrades the gateway, it does not make it unready.
 */
@Controller('health')
export class DependenciesController {
  constructor(@Inject(Upstreams) private readonly upstreams: Upstreams) {}

  @Get('dependencies')
  dependencies(): ReturnType<Upstreams['status']> {
    return this.upstreams.status();
  }
}
