// Types for seed.mjs, so TypeScript callers (bench/run.ts) can import it.

/** One user to seed: `passwordHash` is a PHC argon2id string. */
export interface PeerUser {
  email: string;
  name: string;
  passwordHash: string;
}

/**
 * Replaces every Better Auth user, account, session and verification with
 * `users`, email verified, in a few multi-row statements. Run it after
 * server.mjs has created the schema.
 */
export declare function seedUsers(databaseUrl: string, users: readonly PeerUser[]): Promise<void>;
