// The audit trail: one row per authentication event. Never a password,
// token or code; an unknown document is kept only as a keyed hash.
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
  | 'staff_action';

export type AuditOutcome = 'ok' | 'failed' | 'refused' | 'ignored';

export interface AuditEvent {
  type: AuditType;
  outcome: AuditOutcome;
  memberId?: number | null;
  documentHash?: string | null;
  channel?: 'web' | 'api' | 'desk' | 'email' | 'sms' | null;
  ip?: string | null;
  userAgent?: string | null;
  detail?: Record<string, string | number | boolean | null>;
}

export async function recordAudit(db: Database, clock: Clock, event: AuditEvent): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      at: clock.now(),
      type: event.type,
      outcome: event.outcome,
      member_id: event.memberId ?? null,
      document_hash: event.documentHash ?? null,
      channel: event.channel ?? null,
      ip: event.ip ?? null,
      user_agent: event.userAgent?.slice(0, 300) ?? null,
      detail: event.detail ? JSON.stringify(event.detail) : null,
    })
    .execute();
}
