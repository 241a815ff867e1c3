// Turns what can go wrong at start-up into one clear English sentence for
// the operator (no stack trace): bad configuration, a database that cannot
// be reached, a migration that failed, a port already taken, the demo
// member in production.
import { ConfigError } from './config.ts';
import { DataDirInUseError } from './db/connect.ts';
import { MigrationError } from './db/migrate.ts';
import { DemoMemberPresentError } from './members/demo.ts';

export function describeStartupError(error: unknown): string {
  if (error instanceof ConfigError) {
    return `${error.message}\nFix the environment variables above and start again.`;
  }
  if (error instanceof DataDirInUseError) return error.message;
  // Already one sentence naming the command that removes it.
  if (error instanceof DemoMemberPresentError) return error.message;
  if (error instanceof MigrationError) {
    // The Migrator reports a database it cannot reach as a failed migration.
    if (isConnectionError(error.cause)) return describeStartupError(error.cause);
    return `${error.message}: ${reason(error.cause)}`;
  }
  const code = errorCode(error);
  switch (code) {
    case 'EADDRINUSE':
      return 'the address is already in use (another process listens on this PORT/HOST). Stop it or set PORT.';
    case 'EACCES':
      return 'permission denied (the PORT needs privileges, or DATA_DIR is not writable).';
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'ETIMEDOUT':
    case '28P01':
    case '3D000':
      return `the database cannot be reached (${reason(error)}). Check DATABASE_URL.`;
  }
  if (isConnectionError(error)) {
    return `the database cannot be reached (${reason(error)}). Check DATABASE_URL.`;
  }
  return reason(error);
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', '28P01', '3D000']);

function errorCode(error: unknown): string | undefined {
  if (error instanceof AggregateError && error.errors.length > 0) return errorCode(error.errors[0]);
  return (error as { code?: string } | null)?.code;
}

function isConnectionError(error: unknown): boolean {
  const code = errorCode(error);
  return (
    (code !== undefined && CONNECTION_CODES.has(code)) ||
    /connection terminated|timeout exceeded when trying to connect/i.test(reason(error))
  );
}

function reason(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return reason(error.errors[0]);
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
