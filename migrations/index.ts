// The ordered list of migrations, imported statically so the Migrator needs no
// file-system scan (works the same under tsx, a bundle or a test runner).
import type { Migration } from 'kysely';
import * as initial from './2026-11-25-001-initial.ts';
import * as recoveryAndOutbox from './2026-11-25-002-recovery-and-outbox.ts';
import * as throttles from './2026-11-25-003-throttles.ts';

export const migrations: Record<string, Migration> = {
  '2026-11-25-001-initial': initial,
  '2026-11-25-002-recovery-and-outbox': recoveryAndOutbox,
  '2026-11-25-003-throttles': throttles,
};
