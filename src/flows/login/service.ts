// Login: one service function used by the HTML form and the JSON API alike.
import { recordAudit } from '../../audit/record.ts';
import { normalizeDocument, withoutCheckDigit } from '../../auth/documents.ts';
import { keyedHash } from '../../auth/secrets.ts';
import { createSession, deleteSession } from '../../auth/sessions.ts';
import { errors } from '../../messages/es.ts';
import { type FlowDeps, type MemberView, type RequestContext, viewMember } from '../context.ts';
import { loginErrors } from './errors.ts';
import { MAX_DOCUMENT_LENGTH, MAX_PASSWORD_LENGTH } from './state.ts';

export interface LoginInput {
  document: string | undefined;
  password: string | undefined;
  captcha: string | undefined;
}

export interface LoginResult {
  token: string;
  expiresAt: Date;
  member: MemberView;
}

export async function logIn(
  deps: FlowDeps,
  input: LoginInput,
  context: RequestContext,
): Promise<LoginResult> {
  const { document, password } = readCredentials(input);

  const verdict = await deps.captcha.verify({ response: input.captcha, ip: context.ip });
  if (verdict !== 'ok') {
    await recordAudit(deps.db, deps.clock, {
      type: 'captcha_failed',
      outcome: 'refused',
      documentHash: keyedHash(deps.secret, 'document', document),
      ...auditContext(context),
    });
    throw verdict === 'missing' ? loginErrors.captchaMissing() : loginErrors.captchaFailed();
  }

  const member = await deps.db
    .selectFrom('members')
    .selectAll()
    .where('document', '=', document)
    .executeTakeFirst();

  const usable = member && member.status === 'active' && member.password_hash ? member : undefined;
  const matches = usable?.password_hash
    ? await deps.hasher.verify(usable.password_hash, password)
    : await deps.hasher.verifyNothing(password);

  if (!usable || !matches) {
    await recordAudit(deps.db, deps.clock, {
      type: 'login',
      outcome: 'failed',
      memberId: member?.id ?? null,
      documentHash: keyedHash(deps.secret, 'document', document),
      detail: { reason: !member ? 'unknown' : !usable ? 'unusable' : 'password' },
      ...auditContext(context),
    });
    const base = member ? null : withoutCheckDigit(document);
    throw base ? loginErrors.checkDigit(base) : loginErrors.invalidCredentials();
  }

  if (deps.hasher.needsRehash(usable.password_hash as string)) {
    await deps.db
      .updateTable('members')
      .set({ password_hash: await deps.hasher.hash(password), updated_at: deps.clock.now() })
      .where('id', '=', usable.id)
      .execute();
    await recordAudit(deps.db, deps.clock, {
      type: 'password_rehashed',
      outcome: 'ok',
      memberId: usable.id,
      ...auditContext(context),
    });
  }

  const { token, session } = await createSession(
    deps.db,
    deps.clock,
    deps.sessionPolicy,
    usable.id,
    {
      kind: context.channel,
      ip: context.ip,
      userAgent: context.userAgent,
    },
  );
  await recordAudit(deps.db, deps.clock, {
    type: 'login',
    outcome: 'ok',
    memberId: usable.id,
    ...auditContext(context),
  });
  return { token, expiresAt: session.expires_at, member: viewMember(usable) };
}

function readCredentials(input: LoginInput): { document: string; password: string } {
  const fields: Record<string, string> = {};
  const rawDocument = (input.document ?? '').trim();
  const password = input.password ?? '';
  let document = '';
  if (rawDocument === '') fields.document = errors.DOCUMENT_REQUIRED;
  else {
    const normalized =
      rawDocument.length <= MAX_DOCUMENT_LENGTH ? normalizeDocument(rawDocument) : null;
    if (normalized === null || normalized.length < 5 || normalized.length > 9)
      fields.document = errors.DOCUMENT_INVALID;
    else document = normalized.replace(/^0+(?=\d)/, '');
  }
  if (password === '') fields.password = errors.PASSWORD_REQUIRED;
  else if (password.length > MAX_PASSWORD_LENGTH) fields.password = errors.INVALID_CREDENTIALS;
  if (Object.keys(fields).length > 0) throw loginErrors.invalidFields(fields);
  return { document, password };
}

function auditContext(context: RequestContext) {
  return { channel: context.channel, ip: context.ip, userAgent: context.userAgent };
}

/** Ends the session behind a token. */
export async function logOut(
  deps: FlowDeps,
  token: string,
  memberId: number,
  context: RequestContext,
): Promise<void> {
  await deleteSession(deps.db, token);
  await recordAudit(deps.db, deps.clock, {
    type: 'logout',
    outcome: 'ok',
    memberId,
    ...auditContext(context),
  });
}
