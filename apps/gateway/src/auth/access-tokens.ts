import { SignJWT, errors, jwtVerify } from 'jose';
import { randomUUID } from 'node:crypto';
import { GatewayError } from '../errors';
import type { Principal, Role } from './users';

export interface AccessTokenOptions {
  readonly secret: string;
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
}

/** HS256 is the only algorithm accepted: a token claiming `none` or RS256 is refused before any check. */
const ALGORITHM = 'HS256';

const unauthenticated = (
  code: 'UNAUTHENTICATED' | 'INVALID_TOKEN' | 'TOKEN_EXPIRED',
  message: string,
): GatewayError =>
  new GatewayError(code, message, {
    headers: { 'www-authenticate': `Bearer error="invalid_token", error_description="${message}"` },
  });

/**
 * Short-lived access tokens (JWT, jose): issuer, audience and expiry are checked on every request and
 * the algorithm is pinned. They are not revocable before they expire — that is what their short life is
 * for; logout revokes the refresh-token family, so no new access token follows.
 */
export class AccessTokens {
  private readonly key: Uint8Array;

  constructor(private readonly options: AccessTokenOptions) {
    this.key = new TextEncoder().encode(options.secret);
  }

  get ttlSeconds(): number {
    return this.options.ttlSeconds;
  }

  issue(principal: Principal, sessionId: string): Promise<string> {
    return new SignJWT({
      role: principal.role,
      ...(principal.customerId ? { cid: principal.customerId } : {}),
      sid: sessionId,
    })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(principal.username)
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setIssuedAt()
      .setExpirationTime(`${this.options.ttlSeconds}s`)
      .setJti(randomUUID())
      .sign(this.key);
  }

  /** The principal of a valid `Authorization: Bearer …` header; 401 in the error format otherwise. */
  async verify(authorization: string | undefined): Promise<Principal> {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(authorization ?? '');
    if (!match?.[1]) throw unauthenticated('UNAUTHENTICATED', 'a Bearer access token is required');
    try {
      const { payload } = await jwtVerify(match[1], this.key, {
        algorithms: [ALGORITHM],
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      const role = payload['role'];
      if (typeof payload.sub !== 'string' || (role !== 'customer' && role !== 'admin')) {
        throw unauthenticated('INVALID_TOKEN', 'the access token lacks a subject or role');
      }
      const cid = payload['cid'];
      return {
        username: payload.sub,
        role: role as Role,
        ...(typeof cid === 'string' ? { customerId: cid } : {}),
      };
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      if (error instanceof errors.JWTExpired)
        throw unauthenticated('TOKEN_EXPIRED', 'the access token has expired');
      throw unauthenticated('INVALID_TOKEN', 'the access token is invalid');
    }
  }
}
