// Work that a database restart interrupts is done again once the database
// answers, instead of being lost: the after-the-answer part of a password
// request (ADR 011) has already been answered 202, so failing it would lose
// what the member was told was accepted. Only for work that is all or
// nothing (one transaction): done again, it is done once. A commit whose
// acknowledgement is lost with the connection is the one case where it may
// be done twice (a second link or code, which retires the first).

/** Waits between tries: 0.25 s doubling to 4 s, then 4 s; about a minute in all. */
export const RECONNECT_DELAYS_MS: readonly number[] = [
  250,
  500,
  1000,
  2000,
  ...Array.from({ length: 14 }, () => 4000),
];

/** SQLSTATEs of a server going away: admin shutdown, crash shutdown, cannot connect now, and class 08. */
const LOST_SQLSTATES = new Set(['57P01', '57P02', '57P03']);
const LOST_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);
const LOST_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
];

/** Whether `error` says the database connection was lost or could not be made (not a bad query). */
export function isConnectionLost(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (LOST_SQLSTATES.has(code) || code.startsWith('08') || LOST_ERRNOS.has(code)) return true;
  }
  if (LOST_MESSAGES.some((text) => error.message.includes(text))) return true;
  // AggregateError of a refused IPv4 and IPv6 connect.
  const inner = (error as { errors?: unknown }).errors;
  return Array.isArray(inner) && inner.some(isConnectionLost);
}

/**
 * Runs `work`; while it fails because the database is away, waits and runs
 * it again (`delaysMs` between tries). Any other failure, or the last one,
 * is thrown.
 */
export async function whileDatabaseAway<T>(
  work: () => Promise<T>,
  delaysMs: readonly number[] = RECONNECT_DELAYS_MS,
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      const delay = delaysMs[attempt];
      if (delay === undefined || !isConnectionLost(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
