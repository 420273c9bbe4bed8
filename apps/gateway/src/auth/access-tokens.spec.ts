import { toBody } from '@saga-lab/observability';
import { SignJWT, UnsecuredJWT } from 'jose';
import { AccessTokens } from './access-tokens';

const options = {
  secret: 'unit-secret-0123456789abcdef0123456789',
  issuer: 'iss-test',
  audience: 'aud-test',
  ttlSeconds: 60,
};
const tokens = new AccessTokens(options);
const key = new TextEncoder().encode(options.secret);
const alice = { username: 'alice', role: 'customer' as const, customerId: 'c-alice' };

async function signed(
  overrides: { aud?: string; iss?: string; exp?: number; alg?: string; role?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: overrides.role ?? 'customer', cid: 'c-alice' })
    .setProtectedHeader({ alg: overrides.alg ?? 'HS256' })
    .setSubject('alice')
    .setIssuer(overrides.iss ?? options.issuer)
    .setAudience(overrides.aud ?? options.audience)
    .setIssuedAt(now - 10)
    .setExpirationTime(overrides.exp ?? now + 60)
    .sign(key);
}

describe('AccessTokens', () => {
  it('issues a token it verifies back into the same principal', async () => {
    const token = await tokens.issue(alice, 'session-1');
    await expect(tokens.verify(`Bearer ${token}`)).resolves.toEqual(alice);
  });

  it.each([
    ['no header', undefined, 'UNAUTHENTICATED'],
    ['another scheme', 'Basic YWxpY2U6cHc=', 'UNAUTHENTICATED'],
    ['garbage', 'Bearer not.a.jwt', 'INVALID_TOKEN'],
  ])('refuses %s', async (_, header, code) => {
    await expect(tokens.verify(header).catch((error: unknown) => toBody(error, 'c'))).resolves.toMatchObject({
      status: 401,
      body: { error: { code } },
    });
  });

  it('refuses an expired token, another audience or issuer, and another algorithm', async () => {
    await expect(
      tokens.verify(`Bearer ${await signed({ exp: Math.floor(Date.now() / 1000) - 1 })}`),
    ).rejects.toMatchObject({
      code: 'TOKEN_EXPIRED',
    });
    await expect(tokens.verify(`Bearer ${await signed({ aud: 'other' })}`)).rejects.toMatchObject({
      code: 'INVALID_TOKEN',
    });
    await expect(tokens.verify(`Bearer ${await signed({ iss: 'other' })}`)).rejects.toMatchObject({
      code: 'INVALID_TOKEN',
    });
    await expect(tokens.verify(`Bearer ${await signed({ alg: 'HS512' })}`)).rejects.toMatchObject({
      code: 'INVALID_TOKEN',
    });
    await expect(tokens.verify(`Bearer ${await signed({ role: 'root' })}`)).rejects.toMatchObject({
      code: 'INVALID_TOKEN',
    });
  });

  it('refuses an unsigned (alg: none) token carrying valid claims', async () => {
    const unsigned = new UnsecuredJWT({ role: 'admin' })
      .setSubject('alice')
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt()
      .setExpirationTime('1m')
      .encode();
    await expect(
      tokens.verify(`Bearer ${unsigned}`).catch((error: unknown) => toBody(error, 'c')),
    ).resolves.toMatchObject({ status: 401, body: { error: { code: 'INVALID_TOKEN' } } });
  });

  it('says why in WWW-Authenticate', async () => {
    await expect(tokens.verify(undefined)).rejects.toMatchObject({
      headers: { 'www-authenticate': expect.stringContaining('Bearer error="invalid_token"') },
    });
  });

  it('remembers a verified token until its own expiry, and only that exact token', async () => {
    let now = Date.now();
    const cached = new AccessTokens({ ...options, now: () => now });
    const token = await signed({ exp: Math.floor(now / 1000) + 30 });
    await expect(cached.verify(`Bearer ${token}`)).resolves.toEqual(alice);
    // Altered after the original was remembered: verified afresh, and refused.
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const forged = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`;
    await expect(cached.verify(`Bearer ${forged}`)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    now += 29_000;
    await expect(cached.verify(`Bearer ${token}`)).resolves.toEqual(alice);
    now += 2_000; // past exp: the remembered answer ends with the token
    await expect(cached.verify(`Bearer ${token}`)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
    await expect(cached.verify(`Bearer ${token}`)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
  });
});
