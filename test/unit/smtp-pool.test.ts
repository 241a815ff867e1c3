// The SMTP transport is one pool for the process (ADR 021): enough
// connections for the dispatcher's batches, kept for many messages, unless
// SMTP_URL says otherwise.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { POOL_DEFAULTS, pooledSmtpUrl } from '../../src/courier/channels/smtp.ts';

describe('the SMTP pool', () => {
  it('pools with 10 connections of up to 1000 messages each, with timeouts', () => {
    const url = new URL(pooledSmtpUrl('smtp://user:secret@mail.example.org:587'));
    assert.equal(url.searchParams.get('pool'), 'true');
    assert.equal(url.searchParams.get('maxConnections'), POOL_DEFAULTS.maxConnections);
    assert.equal(url.searchParams.get('maxMessages'), POOL_DEFAULTS.maxMessages);
    assert.equal(url.searchParams.get('socketTimeout'), '20000');
    assert.equal(url.username, 'user');
    assert.equal(url.port, '587');
  });

  it('keeps what SMTP_URL says of the pool', () => {
    const url = new URL(pooledSmtpUrl('smtp://mail.example.org?maxConnections=3&maxMessages=50'));
    assert.equal(url.searchParams.get('maxConnections'), '3');
    assert.equal(url.searchParams.get('maxMessages'), '50');
    assert.equal(url.searchParams.get('pool'), 'true');
  });
});
