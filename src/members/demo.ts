// The demo member of the embedded defaults, so a newcomer can log in at once.
import type { Clock } from '../auth/clock.ts';
import type { PasswordHasher } from '../auth/passwords.ts';
import type { Database } from '../db/schema.ts';

export const DEMO_MEMBER = {
  document: '1234567',
  password: 'demo2026',
  memberNumber: '100001',
  firstName: 'María',
  lastName: 'Rodríguez',
  email: 'maria.rodriguez@example.org',
  mobile: '+59899123456',
} as const;

/** Creates the demo member unless the document exists; true when created now. */
export async function ensureDemoMember(
  db: Database,
  hasher: PasswordHasher,
  clock: Clock,
): Promise<boolean> {
  const existing = await db
    .selectFrom('members')
    .select('id')
    .where('document', '=', DEMO_MEMBER.document)
    .executeTakeFirst();
  if (existing) return false;
  const now = clock.now();
  const inserted = await db
    .insertInto('members')
    .values({
      document: DEMO_MEMBER.document,
      member_number: DEMO_MEMBER.memberNumber,
      first_name: DEMO_MEMBER.firstName,
      last_name: DEMO_MEMBER.lastName,
      email: DEMO_MEMBER.email,
      mobile: DEMO_MEMBER.mobile,
      status: 'active',
      password_hash: await hasher.hash(DEMO_MEMBER.password),
      password_changed_at: now,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}
