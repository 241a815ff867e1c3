// The audit trail: one row per authentication event. Never a password,
// token or code; an unknown document is kept only as a keyed hash.
//
// Every event names its actor, who caused it (ADR 017), apart from the
// member it is about (memberId):
// - member:    a member who proved who they are: a login that succeeded,
//              a logout, a code that matched, a password set with a link or
//              code. actor id = the member's id.
// - anonymous: a request nobody has proved to be the member: a failed
//              login, a link or code asked for a document, a refused
//              CAPTCHA, a throttled request, a wrong code. Even when the
//              document is a member's, the requester is not known to be them
//              (anyone may type a document). actor id = null; the row keeps
//              the address.
// - system:    the portal on its own (a global breaker) or an operator
//              command (npm run sessions, members:import,
//              members:remove-demo). actor id = the command
//              ('cli:sessions'), null for the portal itself.
// - staff:     a staff user at the branch desk (to come). actor id = the
//              staff user's id.
// Callers name the actor only when the rules below would not: operator
// commands always do (a staff action must say who).
import type { Clock } from '../auth/clock.ts';
import type { Database } from '../db/schema.ts';

export type AuditType =
  | 'login'
  | 'logout'
  | 'session_expired'
  | 'captcha_failed'
  | 'password_rehashed'
  | 'link_sent'
  | 'code_sent'
  | 'code_verified'
  | 'password_set'
  | 'throttled'
  | 'sms_budget_exhausted'
  | 'login_failures_surge'
  | 'staff_action'
  | 'session_closed'
  | 'contact_changed'
  | 'passkey_added'
  | 'passkey_renamed'
  | 'passkey_removed';

export type AuditOutcome = 'ok' | 'failed' | 'refused' | 'ignored';

export type AuditActorKind = 'member' | 'staff' | 'system' | 'anonymous';

export interface AuditActor {
  kind: AuditActorKind;
  /** Member id, staff user id, or operator command ('cli:sessions'); null when none. */
  id: string | null;
}

/** An operator command as the actor of what it did, e.g. systemActor('cli:sessions'). */
export function systemActor(command: string): AuditActor {
  return { kind: 'system', id: command };
}

interface AuditEventFields {
  outcome: AuditOutcome;
  memberId?: number | null;
  documentHash?: string | null;
  channel?: 'web' | 'api' | 'desk' | 'email' | 'sms' | null;
  ip?: string | null;
  userAgent?: string | null;
  detail?: Record<string, string | number | boolean | null>;
}

/** An event; a staff action must name its actor, the others may (deriveActor otherwise). */
export type AuditEvent = AuditEventFields &
  (
    | { type: Exclude<AuditType, 'staff_action'>; actor?: AuditActor }
    | { type: 'staff_action'; actor: AuditActor }
  );

/** Done by a member who proved who they are, when it succeeded. */
const MEMBER_ACTIONS: ReadonlySet<AuditType> = new Set([
  'login',
  'logout',
  'password_rehashed',
  'code_verified',
  'password_set',
]);

/** Decided by the portal itself, not by whoever sent the request. */
const SYSTEM_EVENTS: ReadonlySet<AuditType> = new Set([
  'session_expired',
  'login_failures_surge',
  'sms_budget_exhausted',
  'staff_action',
]);

/** The actor of an event that does not name one (the rules at the top of this file). */
export function deriveActor(event: AuditEvent): AuditActor {
  if (event.actor) return event.actor;
  if (SYSTEM_EVENTS.has(event.type)) return { kind: 'system', id: null };
  const memberId = event.memberId ?? null;
  if (memberId !== null && event.outcome === 'ok' && MEMBER_ACTIONS.has(event.type))
    return { kind: 'member', id: String(memberId) };
  return { kind: 'anonymous', id: null };
}

export async function recordAudit(db: Database, clock: Clock, event: AuditEvent): Promise<void> {
  await auditInsert(db, clock, event).execute();
}

/** The statement recordAudit runs, unexecuted (for a caller that runs it with its other writes). */
export function auditInsert(db: Database, clock: Clock, event: AuditEvent) {
  const actor = deriveActor(event);
  return db.insertInto('audit_events').values({
    at: clock.now(),
    type: event.type,
    outcome: event.outcome,
    member_id: event.memberId ?? null,
    document_hash: event.documentHash ?? null,
    channel: event.channel ?? null,
    ip: event.ip ?? null,
    user_agent: event.userAgent?.slice(0, 300) ?? null,
    detail: event.detail ? JSON.stringify(event.detail) : null,
    actor_kind: actor.kind,
    actor_id: actor.id?.slice(0, 200) ?? null,
  });
}
