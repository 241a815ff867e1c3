import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMember, databaseLabel } from '../helper.ts';
import { buildDeliveryRig, type DeliveryRig } from '../support/delivery.ts';
import { emailedLink, logIn, setPassword, tokenIn } from '../support/recovery.ts';

describe(`a new password and the login wait (${databaseLabel})`, () => {
  let rig: DeliveryRig;
  before(async () => {
    rig = await buildDeliveryRig();
  });
  after(() => rig.close());

  it('ends the wait that failed logins started, once the member sets a new password by link', async () => {
    const member = await createMember(rig.db, { password: 'vieja2026' });
    for (let i = 0; i < 5; i += 1) await logIn(rig, member.document, 'mala2026x');
    const waiting = await logIn(rig, member.document, 'vieja2026');
    assert.equal(waiting.statusCode, 429, 'the account is in its wait');

    const token = tokenIn(await emailedLink(rig, member));
    assert.equal((await setPassword(rig, token, 'nueva2026')).statusCode, 200);

    const afterReset = await logIn(rig, member.document, 'nueva2026');
    assert.equal(afterReset.statusCode, 200, afterReset.body);
  });
});
