import type { Redis, Result } from 'ioredis';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { withStore } from '../edge/store-errors';
import { GatewayError } from '../errors';

export interface RefreshTokenOptions {
  readonly ttlSeconds: number;
  /** A family (one login) ends after this, however often its tokens were rotated. */
  readonly sessionTtlSeconds: number;
}

/**
 * Rotation with reuse detection, atomically: the family must still exist; a token already used means
 * two parties hold it (one of them a thief), so the whole family is revoked; otherwise mark it used.
 * KEYS: the token's record, its family.
 */
const ROTATE_SCRIPT = `
if redis.call('EXISTS', KEYS[2]) == 0 then return 'revoked' end
if redis.call('HGET', KEYS[1], 'used') == '1' then
  redis.call('DEL', KEYS[2])
  return 'reused'
end
redis.call('HSET', KEYS[1], 'used', '1')
return 'ok'
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    rotateRefreshToken(tokenKey: string, familyKey: string): Result<string, Context>;
  }
}

const unauthorized = (
  code: 'INVALID_REFRESH_TOKEN' | 'REFRESH_TOKEN_REUSED' | 'SESSION_REVOKED',
  message: string,
): GatewayError => new GatewayError(code, message);

/**
 * Opaque refresh tokens in Redis, grouped in families (one per login). Only a hash of each token is
 * stored. Each refresh rotates: the presented token is spent and a new one of the same family returned.
 */
export class RefreshTokens {
  constructor(
    private readonly redis: Redis,
    private readonly options: RefreshTokenOptions,
  ) {
    redis.defineCommand('rotateRefreshToken', { numberOfKeys: 2, lua: ROTATE_SCRIPT });
  }

  /** A new family (login): returns its id and first token. */
  startFamily(username: string): Promise<{ familyId: string; token: string }> {
    return withStore('the session store', () => this.startFamilyNow(username));
  }

  rotate(token: string): Promise<{ familyId: string; username: string; token: string }> {
    return withStore('the session store', () => this.rotateNow(token));
  }

  revoke(token: string): Promise<void> {
    return withStore('the session store', () => this.revokeNow(token));
  }

  private async startFamilyNow(username: string): Promise<{ familyId: string; token: string }> {
    const familyId = randomUUID();
    await this.redis.set(familyKey(familyId), username, 'EX', this.options.sessionTtlSeconds);
    return { familyId, token: await this.mint(familyId, username) };
  }

  /** Spends `token` and returns the next one of its family, with the family and user it belongs to. */
  private async rotateNow(token: string): Promise<{ familyId: string; username: string; token: string }> {
    const key = tokenKey(token);
    const [familyId, username] = await this.redis.hmget(key, 'family', 'username');
    if (!familyId || !username)
      throw unauthorized('INVALID_REFRESH_TOKEN', 'the refresh token is unknown or expired');
    const outcome = await this.redis.rotateRefreshToken(key, familyKey(familyId));
    if (outcome === 'reused') {
      throw unauthorized(
        'REFRESH_TOKEN_REUSED',
        'the refresh token was already used; every session token of this login is now revoked',
      );
    }
    if (outcome === 'revoked') throw unauthorized('SESSION_REVOKED', 'this login was revoked or has ended');
    return { familyId, username, token: await this.mint(familyId, username) };
  }

  /** Logout: revokes the token's whole family. Unknown tokens are ignored (logout is idempotent). */
  private async revokeNow(token: string): Promise<void> {
    const familyId = await this.redis.hget(tokenKey(token), 'family');
    if (familyId) await this.redis.del(familyKey(familyId));
  }

  private async mint(familyId: string, username: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const familyTtl = await this.redis.ttl(familyKey(familyId));
    const ttl = Math.max(
      1,
      Math.min(this.options.ttlSeconds, familyTtl > 0 ? familyTtl : this.options.ttlSeconds),
    );
    await this.redis
      .multi()
      .hset(tokenKey(token), { family: familyId, username, used: '0' })
      .expire(tokenKey(token), ttl)
      .exec();
    return token;
  }
}

const tokenKey = (token: string): string => `gw:rt:${createHash('sha256').update(token).digest('hex')}`;
const familyKey = (familyId: string): string => `gw:rtf:${familyId}`;
