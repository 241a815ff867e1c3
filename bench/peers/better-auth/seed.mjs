// Seeds the Better Auth peer's database with users that can sign in with email
// and password, straight into its tables (signing up 10 000 users one by one
// through the API would take minutes of hashing). Run it after server.mjs has
// created the schema (it does so before printing `ready <port>`).
import { randomUUID } from 'node:crypto';
import pg from 'pg';

/** Rows per INSERT: each statement sends one array per column, whatever the row count. */
const BATCH_SIZE = 10_000;

/** A text id shaped like Better Auth's own (32 characters). */
function newId() {
  return randomUUID().replaceAll('-', '');
}

/** Inserts one batch of users and their credential accounts (accountId = user id). */
async function insertBatch(client, batch, now) {
  const ids = batch.map(() => newId());
  await client.query(
    `INSERT INTO "user" (id, name, email, "emailVerified", "createdAt", "updatedAt")
     SELECT id, name, email, true, $4, $4
     FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, name, email)`,
    [ids, batch.map((user) => user.name), batch.map((user) => user.email.toLowerCase()), now],
  );
  await client.query(
    `INSERT INTO account (id, "accountId", "providerId", "userId", password, "createdAt", "updatedAt")
     SELECT id, "userId", 'credential', "userId", password, $4, $4
     FROM unnest($1::text[], $2::text[], $3::text[]) AS a(id, "userId", password)`,
    [batch.map(() => newId()), ids, batch.map((user) => user.passwordHash), now],
  );
}

/**
 * Replaces every Better Auth user, account, session and verification with
 * `users` ({ email, name, passwordHash }: a PHC argon2id string), email verified.
 * Emails are stored in lower case, as Better Auth looks them up.
 */
export async function seedUsers(databaseUrl, users) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('TRUNCATE "user", account, session, verification');
    const now = new Date();
    for (let start = 0; start < users.length; start += BATCH_SIZE) {
      await insertBatch(client, users.slice(start, start + BATCH_SIZE), now);
    }
    await client.query('COMMIT');
    // Fresh statistics, so the first measured queries are planned on real sizes.
    await client.query('ANALYZE "user", account, session, verification');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}
