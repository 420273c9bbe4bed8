import argon2 from 'argon2';
import type { SeededUser } from '../config';

export type Role = 'customer' | 'admin';

export interface Principal {
  readonly username: string;
  readonly role: Role;
  /** The customer this user acts as (customers only). */
  readonly customerId?: string;
}

/** Who a user is, without anything secret. */
const principalOf = (user: Principal): Principal => ({
  username: user.username,
  role: user.role,
  ...(user.customerId ? { customerId: user.customerId } : {}),
});

interface StoredUser extends Principal {
  readonly passwordHash: string;
}

/**
 * The seeded users. Passwords are hashed with argon2id (memory-hard: a stolen hash is slow to crack on
 * GPUs) when the gateway starts; only the hashes are kept.
 */
export class UserStore {
  private constructor(
    private readonly users: ReadonlyMap<string, StoredUser>,
    /** Verified against when the user does not exist, so both paths cost the same time. */
    private readonly decoyHash: string,
  ) {}

  static async seed(users: readonly SeededUser[]): Promise<UserStore> {
    const stored = await Promise.all(
      users.map(async (u): Promise<StoredUser> => ({
        ...principalOf(u),
        passwordHash: await argon2.hash(u.password, { type: argon2.argon2id }),
      })),
    );
    const decoy = await argon2.hash('decoy password that matches nothing', { type: argon2.argon2id });
    return new UserStore(new Map(stored.map((u) => [u.username, u])), decoy);
  }

  /** The user if the password matches; undefined otherwise (unknown user or wrong password alike). */
  async authenticate(username: string, password: string): Promise<Principal | undefined> {
    const user = this.users.get(username);
    const ok = await argon2.verify(user?.passwordHash ?? this.decoyHash, password).catch(() => false);
    return user && ok ? principalOf(user) : undefined;
  }

  find(username: string): Principal | undefined {
    const user = this.users.get(username);
    return user && principalOf(user);
  }
}
