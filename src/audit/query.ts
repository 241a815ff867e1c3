// Reading the audit trail for operators: one member's events (known member
// or only a hashed document), newest first.
import { keyedHash } from '../auth/secrets.ts';
import type { Database } from '../db/schema.ts';
import { findMemberByIdentifier } from '../members/find.ts';
import type { AuditActorKind } from './record.ts';

export interface AuditQuery {
  /** Normalised document or member number. */
  identifier?: string;
  since?: Date;
  type?: string;
  limit: number;
}

export interface AuditRow {
  at: Date;
  type: string;
  outcome: string;
  channel: string | null;
  ip: string | null;
  userAgent: string | null;
  detail: unknown;
  memberId: number | null;
  /** Who caused the event: member, staff, system or anonymous (record.ts). */
  actorKind: AuditActorKind;
  /** The member's id, the staff user's id or the operator command; null when none. */
  actorId: string | null;
}

export async function findAuditEvents(
  db: Database,
  secret: string,
  query: AuditQuery,
): Promise<AuditRow[]> {
  let select = db
    .selectFrom('audit_events')
    .select(['at', 'type', 'outcome', 'channel', 'ip', 'user_agent', 'detail', 'member_id'])
    .select(['actor_kind', 'actor_id'])
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit);
  if (query.identifier !== undefined) {
    const identifier = query.identifier;
    const member = await findMemberByIdentifier(db, identifier);
    const documentHash = keyedHash(secret, 'document', identifier);
    select = select.where((eb) =>
      member
        ? eb.or([eb('member_id', '=', member.id), eb('document_hash', '=', documentHash)])
        : eb('document_hash', '=', documentHash),
    );
  }
  if (query.since) select = select.where('at', '>=', query.since);
  if (query.type) select = select.where('type', '=', query.type);
  const rows = await select.execute();
  return rows.map((r) => ({
    at: r.at,
    type: r.type,
    outcome: r.outcome,
    channel: r.channel,
    ip: r.ip,
    userAgent: r.user_agent,
    detail: r.detail,
    memberId: r.member_id,
    actorKind: r.actor_kind,
    actorId: r.actor_id,
  }));
}

/** Deletes events older than the retention; returns how many. */
export async function deleteOldAuditEvents(db: Database, before: Date): Promise<number> {
  const result = await db.deleteFrom('audit_events').where('at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** "24h", "7d", "30m" → milliseconds; null when malformed. */
export function parseDuration(text: string): number | null {
  const match = /^(\d{1,6})([mhd])$/.exec(text.trim());
  if (!match) return null;
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
