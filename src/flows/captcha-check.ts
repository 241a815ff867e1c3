// The CAPTCHA check every flow makes, and what a failed one costs. A failed
// or missing CAPTCHA spends no budget that members share (an address's
// failed logins or password requests, the global failure count): members
// share carrier-NAT addresses, and junk is free to send. It spends a budget
// of its own, per address; past it, the failing requests of that address get
// 429 and are no longer audited one by one, while a request from the same
// address with a solved CAPTCHA goes on as usual. Only the junk's sender is
// slowed (ADR 009, "Junk CAPTCHAs").
import { recordAudit } from '../audit/record.ts';
import { addressKey, hitLimit } from '../auth/throttle.ts';
import type { FlowDeps, RequestContext } from './context.ts';
import { captchaErrors, throttledError } from './errors.ts';

export async function checkCaptcha(
  deps: FlowDeps,
  response: string | undefined,
  context: RequestContext,
  documentHash: string | null,
): Promise<void> {
  const verdict = await deps.captcha.verify({ response, ip: context.ip });
  if (verdict === 'ok') return;
  const rule = deps.limits.captchaFailuresPerAddress;
  const junk = await hitLimit(
    deps.db,
    deps.clock,
    `captcha-failures:${addressKey(context.ip)}`,
    rule,
  );
  const audit = {
    documentHash,
    channel: context.channel,
    ip: context.ip,
    userAgent: context.userAgent,
  };
  if (junk.allowed) {
    await recordAudit(deps.db, deps.clock, {
      type: 'captcha_failed',
      outcome: 'refused',
      ...audit,
    });
    throw verdict === 'missing' ? captchaErrors.missing() : captchaErrors.failed();
  }
  // The first refusal of the window is audited; the flood after it is not.
  if (junk.count === rule.limit + 1)
    await recordAudit(deps.db, deps.clock, {
      type: 'throttled',
      outcome: 'refused',
      ...audit,
      detail: { limit: 'captcha_failures_per_address', retryAfter: junk.retryAfterSeconds },
    });
  throw throttledError('REQUESTS_THROTTLED', junk.retryAfterSeconds);
}
