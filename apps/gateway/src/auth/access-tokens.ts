import { SignJWT, errors, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { randomUUID } from 'node:crypto';
import { GatewayError } from '../errors';
import type { Principal, Role } from './users';

export interface AccessTokenOptions {
  readonly secret: string;
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
  /** Verified tokens remembered until they expire (0: verify every request). */
  readonly verifiedCacheSize?: number;
  readonly now?: () => number;
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
 * Short-lived access tokens (JWT, jose): issuer, audience and expiry are checked and the algorithm is
 * pinned. They are not revocable before they expire — that is what their short life is for; logout revokes
 * the refresh-token family, so no new access token follows.
 *
 * A token verified once is remembered, by its exact text (signature included), until its own expiry: the
 * answer cannot change before then, so repeating the HMAC, the base64 and the claim checks on each of a
 * client's requests only costs CPU (about a fifth of a cached product read's, measured: docs/measurements.md).
 * The cache is bounded; a forged or altered token is never in it.
 */
export class AccessTokens {
  private readonly key: Uint8Array;
  private readonly verified: LRUCache<string, { principal: Principal; expiresAt: number }> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: AccessTokenOptions) {
    this.key = new TextEncoder().encode(options.secret);
    this.now = options.now ?? Date.now;
    const size = options.verifiedCacheSize ?? 10_000;
    this.verified = size > 0 ? new LRUCache({ max: size }) : undefined;
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
    const token = match[1];
    const known = this.verified?.get(token);
    if (known) {
      if (this.now() < known.expiresAt) return known.principal;
      this.verified?.delete(token);
      throw unauthenticated('TOKEN_EXPIRED', 'the access token has expired');
    }
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [ALGORITHM],
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['sub', 'exp', 'iat'],
        currentDate: new Date(this.now()),
      });
      const role = payload['role'];
      if (typeof payload.sub !== 'string' || (role !== 'customer' && role !== 'admin')) {
        throw unauthenticated('INVALID_TOKEN', 'the access token lacks a subject or role');
      }
      const cid = payload['cid'];
      const principal: Principal = {
        username: payload.sub,
        role: role as Role,
        ...(typeof cid === 'string' ? { customerId: cid } : {}),
      };
      // exp is required above; jose has checked it is in the future.
      this.verified?.set(token, { principal, expiresAt: (payload.exp as number) * 1000 });
      return principal;
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      if (error instanceof errors.JWTExpired)
        throw unauthenticated('TOKEN_EXPIRED', 'the access token has expired');
      throw unauthenticated('INVALID_TOKEN', 'the access token is invalid');
    }
  }
}
