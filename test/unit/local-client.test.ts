// Who is local, and the warning an operator gets when a proxy is not trusted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cameThroughProxy,
  isLoopbackAddress,
  warnAboutUntrustedProxy,
} from '../../src/plugins/local-client.ts';

describe('local clients', () => {
  it('knows loopback in IPv4, IPv6 and IPv4-mapped form, and nothing else', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'])
      assert.equal(isLoopbackAddress(address), true, address);
    for (const address of ['10.0.0.1', '::ffff:10.0.0.1', '128.0.0.1', 'fe80::1', undefined, ''])
      assert.equal(isLoopbackAddress(address), false, String(address));
  });

  it('takes any forwarding header as the sign of a proxy', () => {
    for (const name of ['forwarded', 'x-forwarded-for', 'x-real-ip', 'via', 'x-forwarded-proto'])
      assert.equal(cameThroughProxy({ [name]: '203.0.113.5' }), true, name);
    assert.equal(cameThroughProxy({ host: 'localhost', 'user-agent': 'curl' }), false);
  });

  it('warns once when requests come through a proxy that TRUSTED_PROXIES does not name', () => {
    const lines: string[] = [];
    const log = { warn: (_obj: object, msg: string) => lines.push(msg) };
    const hook = warnAboutUntrustedProxy([], log);
    hook({ headers: {} });
    assert.equal(lines.length, 0, 'a direct request says nothing');
    hook({ headers: { 'x-forwarded-for': '203.0.113.5' } });
    hook({ headers: { 'x-forwarded-for': '203.0.113.6' } });
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /TRUSTED_PROXIES is unset/);

    const trusted: string[] = [];
    warnAboutUntrustedProxy(['127.0.0.1'], { warn: (_o, msg) => trusted.push(msg) })({
      headers: { 'x-forwarded-for': '203.0.113.5' },
    });
    assert.equal(trusted.length, 0, 'no warning once the proxy is trusted');
  });
});
