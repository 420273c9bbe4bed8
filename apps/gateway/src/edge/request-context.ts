import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Deadline } from '@saga-lab/resilience';
import type { FastifyRequest } from 'fastify';
import type { Principal, Role } from '../auth/users';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the edge guard on authenticated routes. */
    principal?: Principal;
    /** The request's deadline budget, shared by every call made for it. */
    deadline: Deadline;
    correlationId: string;
  }
}

export interface RequestContext {
  readonly principal: Principal;
  readonly deadline: Deadline;
  readonly correlationId: string;
}

/** What a handler needs to know about its request: who, until when, and which correlation id. */
export const Ctx = createParamDecorator((_: unknown, context: ExecutionContext): RequestContext => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  if (!request.principal) throw new Error('Ctx on a route without authentication');
  // Trace context needs no passing by hand: the HTTP instrumentation carries it into the service calls.
  return { principal: request.principal, deadline: request.deadline, correlationId: request.correlationId };
});

export const PUBLIC_ROUTE = 'gateway:public';
export const ROLES = 'gateway:roles';

/** No access token needed (the auth routes); rate limited by client address with the strict auth policy. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);
/** Only these roles may call the route (403 otherwise). */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES, roles);
