// Setting a member's password, and everything that must follow it, in the
// caller's transaction: the new hash, every live link and code retired, every
// session ended but the one kept (a change from the member's own session),
// the login wait forgotten, and the notice "Su contraseña fue modificada"
// queued (it says how many passkeys stay: they are a factor of their own).
import type { Clock } from '../auth/clock.ts';
import { retireSecrets } from '../auth/one-time-secrets.ts';
import { keyedHash } from '../auth/secrets.ts';
import { clearLoginFailures } from '../auth/throttle.ts';
import { enqueueMessage } from '../courier/outbox.ts';
import { passwordChangedEmail } from '../courier/templates/password-changed.ts';
import type { Database, Member } from '../db/schema.ts';
import type { Brand } from '../site/brand.ts';

export interface PasswordChange {
  member: Pick<Member, 'id' | 'document' | 'email'>;
  /** The argon2id hash of the new password (hashed before the transaction). */
  passwordHash: string;
  now: Date;
  /** How it was set, as the notice tells it. */
  via: 'email' | 'sms' | 'settings' | 'desk';
  /** The id_hash of the session that stays open (the member's own); every other ends. */
  keepSessionIdHash?: string;
}

export async function applyPasswordChange(
  trx: Database,
  parts: { clock: Clock; secret: string; brand: Brand },
  change: PasswordChange,
): Promise<void> {
  const { member, now } = change;
  await trx
    .updateTable('members')
    .set({ password_hash: change.passwordHash, password_changed_at: now, updated_at: now })
    .where('id', '=', member.id)
    .execute();
  await retireSecrets(trx, member.id, now);
  let sessions = trx.deleteFrom('sessions').where('member_id', '=', member.id);
  if (change.keepSessionIdHash)
    sessions = sessions.where('id_hash', '!=', change.keepSessionIdHash);
  await sessions.execute();
  // A member who just proved who they are need not wait out a login pause
  // their old password earned.
  await clearLoginFailures(trx, keyedHash(parts.secret, 'document', member.document));
  if (member.email) {
    const passkeys = await trx
      .selectFrom('passkeys')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('member_id', '=', member.id)
      .executeTakeFirstOrThrow();
    await enqueueMessage(
      trx,
      parts.clock,
      parts.secret,
      {
        channel: 'email',
        to: member.email,
        template: 'password-changed',
        content: passwordChangedEmail({
          brand: parts.brand,
          at: now,
          via: change.via,
          passkeys: Number(passkeys.n),
        }),
      },
      member.id,
    );
  }
}
