import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskAddress } from '../../src/plugins/logging.ts';

describe('client addresses in the logs', () => {
  it('hides the last part of an IPv4 address', () => {
    assert.equal(maskAddress('203.0.113.7'), '203.0.113.x');
    assert.equal(maskAddress('::ffff:10.1.2.3'), '::ffff:10.1.2.x');
  });

  it('keeps only the first four groups of an IPv6 address, however it is written', () => {
    assert.equal(maskAddress('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::x');
    assert.equal(maskAddress('2001:db8::1234'), '2001:db8:0:0::x');
    assert.equal(maskAddress('2001:db8:aa:bb::1234:5678'), '2001:db8:aa:bb::x');
    assert.equal(maskAddress('::1'), '0:0:0:0::x');
    assert.equal(maskAddress('fe80::1%eth0'), 'fe80:0:0:0::x');
    for (const ip of ['2001:db8::1234', '::1', 'fe80::1%eth0', '64:ff9b::192.0.2.33']) {
      const masked = maskAddress(ip) ?? '';
      assert.ok(!masked.includes(ip.split('%')[0] ?? ip), `${ip} → ${masked}`);
    }
  });

  it('does not log what is not an address', () => {
    assert.equal(maskAddress('not-an-address'), 'x');
    assert.equal(maskAddress(undefined), undefined);
  });
});
