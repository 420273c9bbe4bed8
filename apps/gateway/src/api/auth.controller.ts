import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { parseInput } from '@saga-lab/observability';
import { AccessTokens } from '../auth/access-tokens';
import { RefreshTokens } from '../auth/refresh-tokens';
import { UserStore } from '../auth/users';
import { Public } from '../edge/request-context';
import { GatewayError } from '../errors';
import { Operation } from './openapi';
import { refreshRequest, tokenRequest, tokenResponse } from './schemas';

type TokenResponse = {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
};

const tokenExample = {
  access_token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl',
  token_type: 'Bearer',
  expires_in: 300,
  refresh_token: 'q1dE9x0Jm8fK3c2vR7tYb6nA5sL4hG0wZ1uI9oP2eX8',
};

/** OAuth2-style token endpoints (JSON bodies). Rate limited per client address with the strict auth policy. */
@Controller('v1/auth')
@Public()
export class AuthController {
  constructor(
    @Inject(UserStore) private readonly users: UserStore,
    @Inject(AccessTokens) private readonly access: AccessTokens,
    @Inject(RefreshTokens) private readonly refresh: RefreshTokens,
  ) {}

  @Post('token')
  @HttpCode(200)
  @Operation({
    tag: 'auth',
    summary: 'Log in (password grant): an access token and the first refresh token of a new session',
    auth: false,
    body: {
      schema: tokenRequest,
      example: { grant_type: 'password', username: 'alice', password: 'correct horse battery' },
    },
    responses: [{ status: 200, description: 'Logged in', schema: tokenResponse, example: tokenExample }],
    errors: [401],
  })
  async token(@Body() body: unknown): Promise<TokenResponse> {
    const request = parseInput(tokenRequest, body, 'body');
    const principal = await this.users.authenticate(request.username, request.password);
    if (!principal) throw new GatewayError('INVALID_CREDENTIALS', 'the username or password is wrong');
    const { familyId, token } = await this.refresh.startFamily(principal.username);
    return this.tokens(await this.access.issue(principal, familyId), token);
  }

  @Post('refresh')
  @HttpCode(200)
  @Operation({
    tag: 'auth',
    summary: 'Rotate a refresh token: the presented one is spent; presenting it again revokes the session',
    auth: false,
    body: { schema: refreshRequest, example: { refresh_token: tokenExample.refresh_token } },
    responses: [{ status: 200, description: 'New tokens', schema: tokenResponse, example: tokenExample }],
    errors: [401],
  })
  async rotate(@Body() body: unknown): Promise<TokenResponse> {
    const request = parseInput(refreshRequest, body, 'body');
    const next = await this.refresh.rotate(request.refresh_token);
    const principal = this.users.find(next.username);
    if (!principal) throw new GatewayError('INVALID_REFRESH_TOKEN', 'the refresh token belongs to no user');
    return this.tokens(await this.access.issue(principal, next.familyId), next.token);
  }

  @Post('logout')
  @HttpCode(204)
  @Operation({
    tag: 'auth',
    summary:
      'Log out: revokes the session (every refresh token of its family); access tokens expire on their own',
    auth: false,
    body: { schema: refreshRequest, example: { refresh_token: tokenExample.refresh_token } },
    responses: [{ status: 204, description: 'Logged out (also when the token was unknown)' }],
    errors: [],
  })
  async logout(@Body() body: unknown): Promise<void> {
    const request = parseInput(refreshRequest, body, 'body');
    await this.refresh.revoke(request.refresh_token);
  }

  private tokens(accessToken: string, refreshToken: string): TokenResponse {
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: this.access.ttlSeconds,
      refresh_token: refreshToken,
    };
  }
}
