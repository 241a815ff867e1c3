// The recovery and registration steps, shared by the pages and the API.

import { applyPasswordChange } from '../../account/set-password.ts';
import { type AuditEvent, recordAudit } from '../../audit/record.ts';
import { auditInsertMany } from '../../audit/record-many.ts';
import { addMinutes } from '../../auth/clock.ts';
import { knownDeviceFor, readDeviceToken } from '../../auth/devices.ts';
import { normalizeDocument, withoutLeadingZeros } from '../../auth/documents.ts';
import {
  codeHash,
  consumeSecret,
  type NewSecretOfBatch,
  peekSecret,
  type RetireOf,
  retireSecrets,
  retireSecretsOfMembersQuery,
  type SecretPurpose,
  storeSecret,
  storeSecretsQuery,
  tryCode,
} from '../../auth/one-time-secrets.ts';
import { generateNumericCode, generateToken, hashToken, keyedHash } from '../../auth/secrets.ts';
import { addressKey, hitLimit, peekLimit, releaseLimit } from '../../auth/throttle.ts';
import {
  type BatchMessage,
  countDueMessages,
  countMemberMessages,
  countMessagesOfMembers,
  countSmsTo,
  enqueueMessage,
  enqueueMessagesQuery,
  lockDestination,
  type MemberMessageCounts,
} from '../../courier/outbox.ts';
import { passwordRequestEmail } from '../../courier/templates/password-request.ts';
import { smsCodeMessage } from '../../courier/templates/sms-code.ts';
import { whileDatabaseAway } from '../../db/reconnect.ts';
import type { Database, Member } from '../../db/schema.ts';
import { findMemberByIdentifier, lockMembersByIdentifiers } from '../../members/find.ts';
import { errors, text } from '../../messages/es.ts';
import { countCaptchaThrottle } from '../../ops/metrics.ts';
import { type BatchedTasks, batchedTasks, serviceBusyError } from '../background.ts';
import { checkCaptcha } from '../captcha-check.ts';
import type { FlowDeps, RequestContext } from '../context.ts';
import { invalidFields, throttledError } from '../errors.ts';
import { recoveryErrors } from './errors.ts';
import { dropIntake, type IntakeRequest, recordIntake, takeIntake } from './intake.ts';
import {
  type DeliveryChannel,
  EMAIL_LINK_MINUTES,
  type RecoveryFlow,
  SET_PASSWORD_TOKEN_MINUTES,
  SMS_BUDGET_KEY,
  SMS_BUDGET_WINDOW_MS,
  SMS_CODE_MAX_TRIES,
  SMS_CODE_MINUTES,
} from './state.ts';

export const CHANGE_PASSWORD_PATH = '/cambiar-contrasena';

/** The messages a member asks for: what the per-member limit counts (not the change notices). */
const REQUEST_TEMPLATES = ['password-request', 'sms-code'] as const;

export interface PasswordRequestInput {
  document: string | undefined;
  channel: string | undefined;
  captcha: string | undefined;
  flow: RecoveryFlow;
}

/** Step 1: send a link or a code. Answers the same whatever the document is. */
export async function requestPasswordChange(
  deps: FlowDeps,
  input: PasswordRequestInput,
  context: RequestContext,
): Promise<{ channel: DeliveryChannel; identifier: string }> {
  const fields: Record<string, string> = {};
  const identifier = readIdentifier(input.document, fields);
  const channel: DeliveryChannel | null =
    input.channel === 'email' || input.channel === 'sms' ? input.channel : null;
  if (!channel) fields.channel = errors.CHANNEL_REQUIRED;
  if (Object.keys(fields).length > 0 || !channel) throw invalidFields(fields);

  // Refusals that spend nothing come first: a full queue, a spent budget.
  // The look at the budget only spares a refused request its CAPTCHA: with
  // no CAPTCHA to spare, the hit below refuses alike (one statement less).
  if (!deps.background.hasRoom()) throw serviceBusyError();
  if (deps.captcha.provider !== 'none') {
    const budgetLeft = await requestsBudget(peekLimit, deps, context);
    if (!budgetLeft.allowed)
      await refuseRequests(deps, identifier, context, budgetLeft.retryAfterSeconds);
  }

  // Only a request with a solved CAPTCHA spends the budget the address's
  // members share; junk spends its own (captcha-check.ts).
  await checkCaptcha(deps, input.captcha, context, documentHashOf(deps, identifier)).catch(
    (error: unknown) => {
      countCaptchaThrottle(deps.metrics, error);
      throw error;
    },
  );
  const perAddress = await requestsBudget(hitLimit, deps, context);
  if (!perAddress.allowed)
    await refuseRequests(deps, identifier, context, perAddress.retryAfterSeconds);

  // Everything that depends on who the document belongs to runs after the
  // answer, for every document alike: the answer's time tells nothing.
  // The request is written down first (one statement, the same for every
  // document): if this process dies before its work is done, another
  // instance takes it over (intake.ts).
  const request: IntakeRequest = { identifier, flow: input.flow, channel, context };
  const intakeId = await recordIntake(deps.db, deps.clock, deps.secret, request);
  try {
    resumePasswordRequest(deps, intakeId, request);
  } catch (error) {
    // The queue filled up meanwhile: refused, so nobody may do it later.
    await dropIntake(deps.db, intakeId);
    throw error;
  }
  // Counted as asked, before anyone knows whose the document is (ADR 015).
  deps.metrics?.countPasswordRequest(channel);
  return { channel, identifier };
}

/**
 * Hands a written-down password request to its work, after the answer:
 * emailed links go in batches (ADR 021); SMS one by one (number limits, the
 * hourly budget). The sweeper of requests left behind hands them here too.
 * Throws SERVICE_BUSY (and hands nothing) when the queue is full.
 */
export function resumePasswordRequest(
  deps: FlowDeps,
  intakeId: string,
  request: IntakeRequest,
): void {
  const { identifier, flow, context } = request;
  if (request.channel === 'email')
    emailRequestsOf(deps).add({ identifier, flow, context, intakeId });
  else
    deps.background.run('password-request', () =>
      fulfilSmsRequest(deps, { identifier, flow, intakeId }, context),
    );
}

/**
 * Step 1 by SMS, after the answer: finds the member, applies the per-member
 * and per-number limits and the SMS budget, and queues the code; or, for an
 * unknown document (or a refusal), sends nothing. Audited either way.
 */
async function fulfilSmsRequest(
  deps: FlowDeps,
  request: { identifier: string; flow: RecoveryFlow; intakeId?: string },
  context: RequestContext,
): Promise<void> {
  const { identifier, flow, intakeId } = request;
  const now = deps.clock.now();
  // One transaction, done again if the database restarts under it (an SMS
  // request answered 202 is not lost to a restart); the audit line apart.
  const outcome = await whileDatabaseAway(() =>
    deps.db.transaction().execute(async (trx) => {
      // The request's intake row goes with what it does; gone already,
      // another worker did it (intake.ts): nothing to do, nothing to audit.
      if (intakeId !== undefined && !(await takeIntake(trx, [intakeId])).has(intakeId)) return null;
      const member = await findMemberByIdentifier(trx, identifier, { lock: true });
      // A device that logged in as this member before has budgets of its own,
      // and its links and codes outlive requests from elsewhere (ADR 016).
      const knownDevice =
        knownDeviceFor(deps.secret, context.deviceToken, member?.id, now) !== null;
      const refusal = await whyNotSend(trx, deps, member, 'sms', now, knownDevice);
      if (refusal || !member)
        return { member, refusal: refusal ?? 'unknown', queued: false, knownDevice };

      await retireSecrets(trx, member.id, now, {
        purposes: RECOVERY_PURPOSES,
        fromElsewhereOnly: !knownDevice,
      });
      await queueSmsCode(trx, deps, member, flow, now, knownDevice);
      return { member, refusal: null, queued: true, knownDevice };
    }),
  );
  if (!outcome) return;

  await whileDatabaseAway(() =>
    recordAudit(
      deps.db,
      deps.clock,
      requestEvent(deps, { identifier, flow, context, via: 'sms' }, outcome),
    ),
  );
  if (outcome.queued) deps.courier.wake();
}

/**
 * A link or code sent at a branch's request (issue 13), for a member the
 * employee found and whose identity they checked: the member's own
 * request's rules and limits (per member, per number, the SMS budget), the
 * same messages, through the same outbox. Registration when the member has
 * no password yet, recovery otherwise. Answers why nothing was sent, or
 * null; the caller audits it as the employee's action.
 */
export async function sendPasswordMessageFor(
  deps: FlowDeps,
  memberId: number,
  channel: DeliveryChannel,
): Promise<{ refusal: string | null; flow: RecoveryFlow }> {
  const now = deps.clock.now();
  const outcome = await deps.db.transaction().execute(async (trx) => {
    const member = await trx
      .selectFrom('members')
      .selectAll()
      .where('id', '=', memberId)
      .forUpdate()
      .executeTakeFirst();
    const flow: RecoveryFlow = member?.password_hash ? 'recovery' : 'registration';
    // Counted as a request from elsewhere: the branch is not the member's device.
    const refusal = await whyNotSend(trx, deps, member, channel, now, false);
    if (refusal || !member) return { refusal: refusal ?? 'unknown', flow };
    await retireSecrets(trx, member.id, now, {
      purposes: RECOVERY_PURPOSES,
      fromElsewhereOnly: true,
    });
    if (channel === 'sms') await queueSmsCode(trx, deps, member, flow, now, false);
    else {
      const token = generateToken();
      const secretId = await storeSecret(trx, {
        memberId: member.id,
        kind: 'email_link',
        purpose: flow,
        secretHash: hashToken(token),
        now,
        minutes: EMAIL_LINK_MINUTES,
      });
      const link = `${deps.publicUrl}${CHANGE_PASSWORD_PATH}?token=${token}`;
      await enqueueMessage(
        trx,
        deps.clock,
        deps.secret,
        {
          channel: 'email',
          to: member.email as string,
          template: 'password-request',
          content: passwordRequestEmail({ brand: deps.brand, link, minutes: EMAIL_LINK_MINUTES }),
        },
        member.id,
        { secretId, knownDevice: false },
      );
    }
    return { refusal: null, flow };
  });
  if (!outcome.refusal) deps.courier.wake();
  return outcome;
}

/** A new SMS code for a member whose request passed the rules: stored (keyed hash) and queued. */
async function queueSmsCode(
  trx: Database,
  deps: FlowDeps,
  member: Member,
  flow: RecoveryFlow,
  now: Date,
  knownDevice: boolean,
): Promise<void> {
  const code = generateNumericCode(6);
  const secretId = await storeSecret(trx, {
    memberId: member.id,
    kind: 'sms_code',
    purpose: flow,
    secretHash: smsCodeHash(deps, member.id, code),
    now,
    minutes: SMS_CODE_MINUTES,
    knownDevice,
  });
  await enqueueMessage(
    trx,
    deps.clock,
    deps.secret,
    {
      channel: 'sms',
      to: member.mobile as string,
      template: 'sms-code',
      content: smsCodeMessage({ brand: deps.brand, code, minutes: SMS_CODE_MINUTES }),
    },
    member.id,
    { secretId, knownDevice },
  );
}

/** A password request by email, handed off to be fulfilled in a batch with others. */
export interface EmailRequest {
  identifier: string;
  flow: RecoveryFlow;
  context: RequestContext;
  /** Its intake row (intake.ts), deleted in the batch's transaction; none when driven directly. */
  intakeId?: string;
}

/** Each app's batches of email requests (one per FlowDeps, hence per Background). */
const emailBatches = new WeakMap<FlowDeps, BatchedTasks<EmailRequest>>();

function emailRequestsOf(deps: FlowDeps): BatchedTasks<EmailRequest> {
  let batches = emailBatches.get(deps);
  if (!batches) {
    batches = batchedTasks(
      deps.background,
      'password-request',
      (requests) => fulfilEmailRequests(deps, requests),
      { pace: () => waitForCourier(deps) },
    );
    emailBatches.set(deps, batches);
  }
  return batches;
}

/** Due messages past which email requests wait for the courier before they queue more. */
export const COURIER_BACKLOG_LIMIT = 500;
/** How often the backlog is looked at again while it is past the limit. */
const COURIER_POLL_MS = 20;
/** The longest a batch waits for the courier (a courier that is stuck must not hold requests). */
const COURIER_WAIT_MS = 5000;

/**
 * Waits, before a batch of email requests, while the outbox holds
 * COURIER_BACKLOG_LIMIT due messages or more (at most COURIER_WAIT_MS): a
 * flood of requests then waits in the bounded after-the-answer queue, in
 * order, instead of running ahead of the mail. Otherwise a member's next
 * request could retire a link whose mail had not left yet (it is then
 * never sent), and the outbox would grow without bound. The answers do
 * not wait: this runs after them, the same for every document.
 */
export async function waitForCourier(
  deps: FlowDeps,
  pause: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<void> {
  const started = performance.now();
  try {
    // A graceful stop does not pace: what was accepted goes to the outbox.
    while (!deps.background.isDraining() && performance.now() - started < COURIER_WAIT_MS) {
      const due = await countDueMessages(deps.db, deps.clock.now(), COURIER_BACKLOG_LIMIT);
      if (due < COURIER_BACKLOG_LIMIT) return;
      deps.courier.wake();
      await pause(COURIER_POLL_MS);
    }
  } catch (error) {
    // The batch itself will meet a database that is gone, and say so.
    deps.log.warn({ err: error }, 'could not look at the outbox backlog');
  }
}

/**
 * Step 1 by email, after the answer, for a batch of requests: one
 * transaction of three statements whatever its size (ADR 021). Lock the
 * members the documents name, count their recent messages, then retire
 * their older links, store the new ones, queue the mails and audit every
 * request in one statement. The rules are the one-by-one path's, request
 * by request in the order they came: unknown, inactive and contactless
 * documents send nothing; the per-member limit counts what this batch
 * already queued for the member; a member's later request in the batch
 * retires the links of the earlier ones as it would have one by one.
 */
export async function fulfilEmailRequests(deps: FlowDeps, batch: EmailRequest[]): Promise<void> {
  const now = deps.clock.now();
  const queued = await deps.db.transaction().execute(async (trx) => {
    // The batch's intake rows go with what it does. A request whose row is
    // gone was done by another worker (intake.ts): left out, quietly.
    const ids = batch.flatMap((r) => (r.intakeId === undefined ? [] : [r.intakeId]));
    const taken = await takeIntake(trx, ids);
    const requests = batch.filter((r) => r.intakeId === undefined || taken.has(r.intakeId));
    if (requests.length === 0) return 0;
    const members = await lockMembersByIdentifiers(
      trx,
      requests.map((r) => r.identifier),
    );
    const counts = await countMessagesOfMembers(
      trx,
      [...new Set([...members.values()].map((m) => m.id))],
      addMinutes(now, -60),
      REQUEST_TEMPLATES,
    );
    const plan = planEmailRequests(deps, requests, members, counts, now);
    await writeEmailRequests(trx, deps, plan, now);
    return plan.links.length;
  });
  if (queued > 0) deps.courier.wake();
}

/** What a batch of email requests writes: links to store and send, members to retire, events. */
interface EmailPlan {
  links: { secret: NewSecretOfBatch; message: BatchMessage }[];
  retire: RetireOf[];
  events: AuditEvent[];
}

/**
 * Decides, request by request in order, what each one sends (the rules of
 * whyNotSend for email), and makes its link. Pure but for the tokens.
 */
function planEmailRequests(
  deps: FlowDeps,
  requests: EmailRequest[],
  members: Map<string, Member>,
  counts: Map<number, MemberMessageCounts>,
  now: Date,
): EmailPlan {
  const links: EmailPlan['links'] = [];
  const retire = new Map<number, RetireOf>();
  const events: AuditEvent[] = [];
  for (const request of requests) {
    const member = members.get(request.identifier);
    const knownDevice =
      knownDeviceFor(deps.secret, request.context.deviceToken, member?.id, now) !== null;
    const refusal = whyNotEmail(deps, member, knownDevice, counts);
    events.push(requestEvent(deps, { ...request, via: 'email' }, { member, refusal, knownDevice }));
    if (refusal || !member) continue;

    // Counted for the member's next request in this batch.
    const count = counts.get(member.id) ?? { knownDevice: 0, elsewhere: 0 };
    if (knownDevice) count.knownDevice += 1;
    else count.elsewhere += 1;
    counts.set(member.id, count);
    // This request retires what it would have one by one: the member's
    // older links (a known device's too when it comes from one), including
    // those of earlier requests in this batch.
    for (const earlier of links)
      if (earlier.secret.memberId === member.id && (knownDevice || !earlier.secret.knownDevice))
        earlier.secret.usedAt = now;
    const scope = retire.get(member.id);
    retire.set(member.id, {
      memberId: member.id,
      knownDevicesToo: knownDevice || (scope?.knownDevicesToo ?? false),
    });

    const token = generateToken();
    const secretHash = hashToken(token);
    const link = `${deps.publicUrl}${CHANGE_PASSWORD_PATH}?token=${token}`;
    links.push({
      secret: {
        memberId: member.id,
        kind: 'email_link',
        purpose: request.flow,
        secretHash,
        now,
        minutes: EMAIL_LINK_MINUTES,
        knownDevice,
      },
      message: {
        message: {
          channel: 'email',
          to: member.email as string,
          template: 'password-request',
          content: passwordRequestEmail({ brand: deps.brand, link, minutes: EMAIL_LINK_MINUTES }),
        },
        memberId: member.id,
        secretHash,
        knownDevice,
      },
    });
  }
  return { links, retire: [...retire.values()], events };
}

/** whyNotSend for email, on counts read for the whole batch. */
function whyNotEmail(
  deps: FlowDeps,
  member: Member | undefined,
  knownDevice: boolean,
  counts: Map<number, MemberMessageCounts>,
): string | null {
  if (!member) return 'unknown';
  if (member.status !== 'active') return 'inactive';
  if (!member.email) return 'no_contact';
  const count = counts.get(member.id);
  const sent = (knownDevice ? count?.knownDevice : count?.elsewhere) ?? 0;
  if (sent >= deps.messageLimits.perMemberPerHour) return 'member_limit';
  return null;
}

/**
 * The batch's writes in one statement: retiring older links, storing the
 * new ones, queuing their mails (each names its link's id) and the audit
 * events. PostgreSQL runs every part of it once, in this transaction.
 */
async function writeEmailRequests(
  trx: Database,
  deps: FlowDeps,
  plan: EmailPlan,
  now: Date,
): Promise<void> {
  const audit = auditInsertMany(trx, deps.clock, plan.events);
  if (plan.links.length === 0) {
    await audit.execute();
    return;
  }
  await trx
    .with('retired', () => retireSecretsOfMembersQuery(trx, now, plan.retire, RECOVERY_PURPOSES))
    .with('stored', () =>
      storeSecretsQuery(
        trx,
        plan.links.map((l) => l.secret),
      ),
    )
    .with('queued', () =>
      enqueueMessagesQuery(
        trx,
        deps.clock,
        deps.secret,
        plan.links.map((l) => l.message),
        'stored',
      ).returning('id'),
    )
    .with('audited', () => audit)
    .selectNoFrom((eb) => eb.selectFrom('queued').select(eb.fn.countAll().as('n')).as('queued'))
    .execute();
}

/** The audit event of one password request: link_sent or code_sent, ok or ignored and why. */
function requestEvent(
  deps: FlowDeps,
  request: {
    identifier: string;
    flow: RecoveryFlow;
    context: RequestContext;
    via: DeliveryChannel;
  },
  outcome: { member: Member | undefined; refusal: string | null; knownDevice: boolean },
): AuditEvent {
  const { context } = request;
  return {
    type: request.via === 'email' ? 'link_sent' : 'code_sent',
    outcome: outcome.refusal ? 'ignored' : 'ok',
    memberId: outcome.member?.id ?? null,
    documentHash: documentHashOf(deps, request.identifier),
    channel: context.channel,
    ip: context.ip,
    userAgent: context.userAgent,
    detail: {
      flow: request.flow,
      via: request.via,
      ...(outcome.refusal ? { reason: outcome.refusal } : {}),
      ...(outcome.knownDevice ? { device: 'known' } : {}),
    },
  };
}

/** Step 2 (SMS): a right code becomes a set-password token. */
export async function verifySmsCode(
  deps: FlowDeps,
  input: { document: string | undefined; code: string | undefined },
  context: RequestContext,
): Promise<{ token: string; flow: RecoveryFlow }> {
  const fields: Record<string, string> = {};
  const identifier = readIdentifier(input.document, fields);
  const code = (input.code ?? '').replace(/\s/g, '');
  if (code === '') fields.code = errors.CODE_REQUIRED;
  else if (!/^\d{6}$/.test(code)) fields.code = errors.CODE_FORMAT;
  if (Object.keys(fields).length > 0) throw invalidFields(fields);

  const now = deps.clock.now();
  const member = await findMemberByIdentifier(deps.db, identifier);
  // A try is counted against the address's budget of wrong codes before the
  // code is checked, in one statement, and given back when it was right: so
  // parallel wrong codes cannot all pass a check made before any was counted.
  // The budget is its own (junk codes need no CAPTCHA: they must not spend
  // the password requests of the address's members), and a device that
  // logged in as this member before does not spend it (ADR 016); each code
  // has its own SMS_CODE_MAX_TRIES either way.
  const knownDevice = knownDeviceFor(deps.secret, context.deviceToken, member?.id, now);
  const counted = knownDevice ? null : await spendCodeTry(deps, identifier, context);

  // Unknown documents run the same statements (on member id 0, which no
  // member has): the answer's time does not tell them apart.
  const memberId = member?.id ?? 0;
  const candidate = smsCodeHash(deps, memberId, code);
  const result = await deps.db.transaction().execute(async (trx) => {
    const { matched, attempts } = await tryCode(trx, {
      memberId,
      kind: 'sms_code',
      purposes: RECOVERY_PURPOSES,
      candidateHash: candidate,
      now,
      maxTries: SMS_CODE_MAX_TRIES,
    });
    if (!matched || !member || !isRecoveryPurpose(matched.purpose))
      return { ok: false as const, attempts };
    const token = generateToken();
    await storeSecret(trx, {
      memberId: member.id,
      kind: 'set_password',
      purpose: matched.purpose,
      secretHash: hashToken(token),
      now,
      minutes: SET_PASSWORD_TOKEN_MINUTES,
      knownDevice: matched.known_device,
    });
    return { ok: true as const, token, flow: matched.purpose };
  });

  await recordAudit(deps.db, deps.clock, {
    type: 'code_verified',
    outcome: result.ok ? 'ok' : 'failed',
    memberId: member?.id ?? null,
    documentHash: documentHashOf(deps, identifier),
    channel: context.channel,
    ip: context.ip,
    userAgent: context.userAgent,
    ...(result.ok
      ? knownDevice
        ? { detail: { device: 'known' } }
        : {}
      : {
          detail: {
            attempts: result.attempts.length > 0 ? Math.max(...result.attempts) : null,
            ...(knownDevice ? { device: 'known' } : {}),
          },
        }),
  });
  if (!result.ok) throw recoveryErrors.codeInvalid();
  if (counted) await releaseLimit(deps.db, counted.key, counted.windowStart);
  return { token: result.token, flow: result.flow };
}

/** Counts one code try against the address's budget of wrong codes; refuses past it. */
export async function spendCodeTry(
  deps: FlowDeps,
  identifier: string,
  context: RequestContext,
): Promise<{ key: string; windowStart: Date }> {
  const key = `sms-code-failures:${addressKey(context.ip)}`;
  const verdict = await hitLimit(deps.db, deps.clock, key, deps.limits.smsCodeFailuresPerAddress);
  if (!verdict.allowed) {
    await releaseLimit(deps.db, key, verdict.windowStart);
    await refuseRequests(
      deps,
      identifier,
      context,
      verdict.retryAfterSeconds,
      'sms_code_failures_per_address',
    );
  }
  return { key, windowStart: verdict.windowStart };
}

/** The per-address budget of password requests: spent (hitLimit) or looked at (peekLimit). */
function requestsBudget(
  look: typeof hitLimit | typeof peekLimit,
  deps: FlowDeps,
  context: RequestContext,
) {
  // A device that logged in as a member has the budget of that member's
  // devices instead of its address's: requests from its NAT neighbours
  // cannot starve it (ADR 016). One budget per member, however many tokens
  // the member's logins minted, so a token buys its holder no more than that.
  const device = readDeviceToken(deps.secret, context.deviceToken, deps.clock.now());
  const key = device
    ? `password-requests:member:${device.memberId}`
    : `password-requests:${addressKey(context.ip)}`;
  return look(deps.db, deps.clock, key, deps.limits.passwordRequestsPerAddress);
}

export function documentHashOf(deps: FlowDeps, identifier: string): string {
  return keyedHash(deps.secret, 'document', identifier);
}

async function refuseRequests(
  deps: FlowDeps,
  identifier: string,
  context: RequestContext,
  seconds: number,
  limit:
    | 'password_requests_per_address'
    | 'sms_code_failures_per_address' = 'password_requests_per_address',
): Promise<never> {
  await recordAudit(deps.db, deps.clock, {
    type: 'throttled',
    outcome: 'refused',
    documentHash: documentHashOf(deps, identifier),
    channel: context.channel,
    ip: context.ip,
    userAgent: context.userAgent,
    detail: { limit, retryAfter: seconds },
  });
  deps.metrics?.countThrottleHit(limit);
  throw throttledError('REQUESTS_THROTTLED', seconds);
}

/**
 * Whether a link or set-password token can still be used (opening the page
 * never uses it), and whose password it sets, masked ("Ana P., documento
 * ***456"): a member who opened a link someone else sent notices it is not
 * their account.
 */
export async function peekPasswordToken(
  deps: FlowDeps,
  token: string | undefined,
): Promise<{ flow: PasswordPurpose; holder: string } | null> {
  const found = await liveToken(deps, token, deps.clock.now());
  if (!found) return null;
  const { secret, member } = found;
  return {
    flow: secret.purpose,
    holder: maskedHolder(member.first_name, member.last_name, member.document),
  };
}

/**
 * The live link or set-password token of recovery, registration or a
 * branch's activation code behind a raw token, with its active member; null
 * otherwise.
 */
async function liveToken(deps: FlowDeps, token: string | undefined, now: Date) {
  if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const secret = await peekSecret(deps.db, hashToken(token), ['email_link', 'set_password'], now);
  if (!secret || !isPasswordPurpose(secret.purpose)) return null;
  const member = await deps.db
    .selectFrom('members')
    .selectAll()
    .where('id', '=', secret.member_id)
    .where('status', '=', 'active')
    .executeTakeFirst();
  return member ? { secret: { ...secret, purpose: secret.purpose }, member } : null;
}

/** "Ana P., documento ***456": enough for the holder to recognise, little for anyone else. */
export function maskedHolder(firstName: string, lastName: string, document: string): string {
  const first = firstName.normalize('NFC').trim().split(/\s+/)[0] ?? '';
  const initial = lastName.normalize('NFC').trim().charAt(0).toLocaleUpperCase('es-UY');
  const name = initial ? `${first} ${initial}.` : first;
  return text.maskedHolder(name, document.slice(-3));
}

export interface SetPasswordInput {
  token: string | undefined;
  password: string | undefined;
  passwordConfirmation: string | undefined;
  captcha: string | undefined;
}

/** Step 3: the new password. The token is used up only when everything else is right. */
export async function setPasswordWithToken(
  deps: FlowDeps,
  input: SetPasswordInput,
  context: RequestContext,
): Promise<{ flow: PasswordPurpose }> {
  const now = deps.clock.now();
  const found = await liveToken(deps, input.token, now);
  if (!found) throw recoveryErrors.tokenInvalid();
  const { secret, member } = found;

  const password = input.password ?? '';
  const problems = deps.passwordPolicy.check({
    password,
    confirmation: input.passwordConfirmation ?? '',
    context: [member.document, member.member_number],
  });
  if (Object.keys(problems).length > 0) throw recoveryErrors.passwordRejected(problems);

  await checkCaptcha(deps, input.captcha, context, documentHashOf(deps, member.document)).catch(
    (error: unknown) => {
      countCaptchaThrottle(deps.metrics, error);
      throw error;
    },
  );
  const passwordHash = await deps.hasher.hash(password);
  const via =
    secret.purpose === 'activation' ? 'desk' : secret.kind === 'email_link' ? 'email' : 'sms';

  // The token is used up in the same transaction as the change: of concurrent
  // uses, one sets the password.
  const changed = await deps.db.transaction().execute(async (trx) => {
    if (!(await consumeSecret(trx, secret.id, now))) return false;
    await applyPasswordChange(trx, deps, { member, passwordHash, now, via });
    return true;
  });
  if (!changed) throw recoveryErrors.tokenInvalid();

  await recordAudit(deps.db, deps.clock, {
    type: 'password_set',
    outcome: 'ok',
    memberId: member.id,
    channel: context.channel,
    ip: context.ip,
    userAgent: context.userAgent,
    detail: { flow: secret.purpose, via },
  });
  deps.courier.wake();
  return { flow: secret.purpose };
}

export function readIdentifier(raw: string | undefined, fields: Record<string, string>): string {
  const trimmed = (raw ?? '').trim();
  if (trimmed === '') {
    fields.document = errors.DOCUMENT_OR_MEMBER_REQUIRED;
    return '';
  }
  const digits = trimmed.length <= 32 ? normalizeDocument(trimmed) : null;
  if (!digits || digits.length > 12) {
    fields.document = errors.DOCUMENT_OR_MEMBER_INVALID;
    return '';
  }
  return withoutLeadingZeros(digits);
}

/** Why nothing may be sent, or null when it may. */
async function whyNotSend(
  db: Database,
  deps: FlowDeps,
  member: Member | undefined,
  channel: DeliveryChannel,
  now: Date,
  knownDevice: boolean,
): Promise<string | null> {
  if (!member) return 'unknown';
  if (member.status !== 'active') return 'inactive';
  const destination = channel === 'email' ? member.email : member.mobile;
  if (!destination) return 'no_contact';
  const limits = deps.messageLimits;
  const hourAgo = addMinutes(now, -60);
  // The member's row is locked (findMemberByIdentifier with lock); the number may be shared.
  if (
    (await countMemberMessages(db, member.id, hourAgo, REQUEST_TEMPLATES, knownDevice)) >=
    limits.perMemberPerHour
  )
    return 'member_limit';
  if (channel === 'sms') {
    await lockDestination(db, 'sms', destination);
    if ((await countSmsTo(db, destination, hourAgo, knownDevice)) >= limits.smsPerNumberPerHour)
      return 'number_hour_limit';
    const dayAgo = addMinutes(now, -24 * 60);
    if ((await countSmsTo(db, destination, dayAgo, knownDevice)) >= limits.smsPerNumberPerDay)
      return 'number_day_limit';
    if (!(await withinSmsBudget(db, deps))) return 'sms_budget';
  }
  return null;
}

/**
 * The hourly SMS budget (SMS cost money; email does not stop). Counted in the
 * request's transaction; the request that spends the last SMS raises the
 * alert once, and later ones send nothing until the next hour.
 */
export async function withinSmsBudget(db: Database, deps: FlowDeps): Promise<boolean> {
  const budget = deps.limits.smsHourlyBudget;
  if (budget === 0) return false;
  const verdict = await hitLimit(db, deps.clock, SMS_BUDGET_KEY, {
    limit: budget,
    windowMs: SMS_BUDGET_WINDOW_MS,
  });
  if (verdict.count === budget) {
    deps.log.error(
      { alert: 'sms_budget_exhausted', budget, resumesInSeconds: verdict.retryAfterSeconds },
      'ALERT: the hourly SMS budget is spent; SMS stop until the next hour (email goes on)',
    );
    await recordAudit(db, deps.clock, {
      type: 'sms_budget_exhausted',
      outcome: 'refused',
      detail: { budget, resumesInSeconds: verdict.retryAfterSeconds },
    });
  }
  return verdict.allowed;
}

/** The purposes of this flow's secrets. */
const RECOVERY_PURPOSES: readonly RecoveryFlow[] = ['recovery', 'registration'];

function isRecoveryPurpose(purpose: SecretPurpose): purpose is RecoveryFlow {
  return (RECOVERY_PURPOSES as readonly string[]).includes(purpose);
}

/** What a set-password token may be for: recovery, registration, or a branch's activation code. */
export type PasswordPurpose = RecoveryFlow | 'activation';

function isPasswordPurpose(purpose: SecretPurpose): purpose is PasswordPurpose {
  return purpose === 'activation' || isRecoveryPurpose(purpose);
}

function smsCodeHash(deps: FlowDeps, memberId: number, code: string): string {
  return codeHash(deps.secret, 'sms-code', memberId, code);
}
