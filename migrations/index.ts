// The ordered list of migrations, imported statically so the Migrator needs no
// file-system scan (works the same under tsx, a bundle or a test runner).
import type { Migration } from 'kysely';
import * as initial from './2026-11-25-001-initial.ts';
import * as recoveryAndOutbox from './2026-11-25-002-recovery-and-outbox.ts';
import * as throttles from './2026-11-25-003-throttles.ts';
import * as outboxSecret from './2026-12-02-001-outbox-secret.ts';
import * as demoMember from './2026-12-02-002-demo-member.ts';
import * as deviceTrust from './2026-12-02-003-device-trust.ts';
import * as sessionIdsAndActors from './2026-12-02-004-session-ids-and-actors.ts';
import * as canonicalDocuments from './2026-12-02-005-canonical-documents.ts';
import * as secretPurposes from './2026-12-02-006-secret-purposes.ts';
import * as staff from './2026-12-02-007-staff.ts';
import * as printedCodes from './2026-12-02-008-printed-codes.ts';
import * as staffAuditIndexes from './2026-12-02-009-staff-audit-indexes.ts';
import * as passkeys from './2026-12-02-010-passkeys.ts';
import * as requestIntake from './2026-12-02-011-request-intake.ts';

export const migrations: Record<string, Migration> = {
  '2026-11-25-001-initial': initial,
  '2026-11-25-002-recovery-and-outbox': recoveryAndOutbox,
  '2026-11-25-003-throttles': throttles,
  '2026-12-02-001-outbox-secret': outboxSecret,
  '2026-12-02-002-demo-member': demoMember,
  '2026-12-02-003-device-trust': deviceTrust,
  '2026-12-02-004-session-ids-and-actors': sessionIdsAndActors,
  '2026-12-02-005-canonical-documents': canonicalDocuments,
  '2026-12-02-006-secret-purposes': secretPurposes,
  '2026-12-02-007-staff': staff,
  '2026-12-02-008-printed-codes': printedCodes,
  '2026-12-02-009-staff-audit-indexes': staffAuditIndexes,
  '2026-12-02-010-passkeys': passkeys,
  '2026-12-02-011-request-intake': requestIntake,
};
