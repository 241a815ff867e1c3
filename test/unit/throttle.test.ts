// addressKey: the bucket a client address is counted in by the per-address
// throttles (failed logins, password requests).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressKey } from '../../src/auth/throttle.ts';

describe('the per-address throttle key', () => {
  it('counts an IPv4 address on its own', () => {
    assert.equal(addressKey('203.0.113.7'), '203.0.113.7');
    assert.notEqual(addressKey('203.0.113.7'), addressKey('203.0.113.8'));
  });

  it('counts an IPv6 address by its /64, however it is written', () => {
    const key = addressKey('2001:db8:1:2::1');
    assert.equal(key, '2001:db8:1:2::/64');
    for (const ip of [
      '2001:db8:1:2:ffff::9',
      '2001:db8:1:2:3:4:5:6',
      '2001:0db8:0001:0002:0000:0000:0000:0001',
      '2001:DB8:1:2::ABCD',
      '2001:db8:1:2::',
    ])
      assert.equal(addressKey(ip), key, ip);
  });

  it('keeps different /64 networks apart', () => {
    const key = addressKey('2001:db8:1:2::1');
    for (const ip of ['2001:db8:1:3::1', '2001:db8:1::2', '2001:db8::1:2:0:0', '2001:db9:1:2::1'])
      assert.notEqual(addressKey(ip), key, ip);
    assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  });

  it('counts an IPv4-mapped address as the IPv4 address it carries, in any spelling', () => {
    for (const ip of [
      '::ffff:203.0.113.7',
      '::FFFF:203.0.113.7',
      '::ffff:cb00:7107',
      '0:0:0:0:0:ffff:203.0.113.7',
    ])
      assert.equal(addressKey(ip), '203.0.113.7', ip);
    // Two mapped clients are two buckets, not one shared ::/64.
    assert.notEqual(addressKey('::ffff:cb00:7107'), addressKey('::ffff:cb00:7108'));
    assert.notEqual(addressKey('::ffff:203.0.113.7'), addressKey('::1'));
  });

  it('puts requests without an address in one bucket', () => {
    assert.equal(addressKey(null), 'unknown');
    assert.equal(addressKey(''), 'unknown');
  });
});
