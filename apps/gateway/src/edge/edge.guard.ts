import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessTokens } from '../auth/access-tokens';
import type { Principal, Role } from '../auth/users';
import type { GatewayConfig } from '../config';
import { GatewayError } from '../errors';
import { GatewayMetrics } from '../metrics';
import { PUBLIC_ROUTE, ROLES } from './request-context';
import { RATE_LIMITER, type Bucket, type Decision, type RateLimiter } from './rate-limiter';

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

/**
 * The edge's checks for every /v1 route, in one place and in this order: who is calling (the access
 * token, verified locally), whether they may (rate limits per client address and per user, in one Redis
 * call), then what they may do (roles). Rate limiting comes before refusing a bad token, so guessing
 * tokens costs the guesser their address's budget too.
 */
@Injectable()
export class EdgeGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(AccessTokens) private readonly tokens: AccessTokens,
    @Inject(RATE_LIMITER) private readonly limiter: RateLimiter,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(GatewayMetrics) private readonly metrics: GatewayMetrics,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    if (!request.routeOptions.url?.startsWith('/v1/')) return true; // health, metrics: operators' routes
    const targets = [context.getHandler(), context.getClass()];
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets) ?? false;

    let principal: Principal | undefined;
    let refusal: unknown;
    if (!isPublic) {
      try {
        principal = await this.tokens.verify(request.headers.authorization);
      } catch (error) {
        refusal = error;
      }
    }

    const buckets: Bucket[] = isPublic
      ? [{ key: `rl:auth:${request.ip}`, policy: 'auth', limits: this.config.GATEWAY_RATE_LIMIT_AUTH }]
      : [
          { key: `rl:ip:${request.ip}`, policy: 'ip', limits: this.config.GATEWAY_RATE_LIMIT_IP },
          ...(principal
            ? [
                {
                  key: `rl:user:${principal.username}`,
                  policy: 'user',
                  limits: this.config.GATEWAY_RATE_LIMIT_USER,
                },
              ]
            : []),
        ];
    const decision = await this.limiter.take(buckets).catch((error: unknown) => {
      // Fail open: an outage of Redis must not take the API down with it. Counted, so it is seen.
      this.metrics.rateLimiterErrors.inc();
      void error;
      return undefined;
    });
    if (decision) {
      const headers = rateLimitHeaders(decision);
      for (const [name, value] of Object.entries(headers)) void reply.header(name, value);
      if (!decision.allowed) {
        this.metrics.rateLimited.inc({ policy: decision.policy });
        throw new GatewayError(
          'RATE_LIMITED',
          `too many requests (${decision.policy} limit); retry in ${decision.retryAfterSeconds} s`,
          {
            details: { policy: decision.policy, retryAfterSeconds: decision.retryAfterSeconds },
            headers: { ...headers, 'retry-after': String(decision.retryAfterSeconds) },
          },
        );
      }
    }
    if (refusal) throw refusal;

    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, targets);
    if (principal && roles && !roles.includes(principal.role)) {
      throw new GatewayError('FORBIDDEN', `this operation needs the role ${roles.join(' or ')}`);
    }
    if (principal) request.principal = principal;
    return true;
  }
}

/** IETF draft RateLimit header fields, for the bucket closest to empty. */
function rateLimitHeaders(decision: Decision): Record<string, string> {
  return {
    'ratelimit-limit': String(decision.limit),
    'ratelimit-remaining': String(decision.remaining),
    'ratelimit-reset': String(decision.resetSeconds),
    'ratelimit-policy': `${decision.limit};w=${decision.windowSeconds};policy="${decision.policy}"`,
  };
}
