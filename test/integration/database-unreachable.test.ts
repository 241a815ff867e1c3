// The database away (a restart, a failover, a wrong address): a request
// that needs it answers 503 with Retry-After (SERVICE_BUSY), which clients
// and proxies know to try again, and the log says why; never a bare 500.
// On a PostgreSQL address nothing listens on, so it runs everywhere.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connectDatabase } from '../../src/db/connect.ts';
import { buildTestApp, type TestApp } from '../helper.ts';

async function closedPort(): Promise<number> {
  return await new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 1));
    });
  });
}

describe('the database unreachable', () => {
  let test: TestApp;

  before(async () => {
    const db = await connectDatabase({
      kind: 'postgres',
      url: `postgres://nobody@127.0.0.1:${await closedPort()}/nothing`,
    });
    test = await buildTestApp({
      database: { db, url: undefined, close: () => db.destroy() },
    });
  });
  after(() => test.close());

  it('answers 503 with Retry-After to the API, in its JSON shape', async () => {
    const response = await test.app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: `Bearer ${'a'.repeat(43)}` },
    });
    assert.equal(response.statusCode, 503);
    assert.equal(response.headers['retry-after'], '5');
    assert.equal(response.json().error.code, 'SERVICE_BUSY');
  });

  it('answers 503 with the Spanish page to a browser', async () => {
    const response = await test.app.inject({
      method: 'GET',
      url: '/inicio',
      headers: { cookie: `sid=${'a'.repeat(43)}` },
    });
    assert.equal(response.statusCode, 503);
    assert.equal(response.headers['retry-after'], '5');
    assert.match(String(response.headers['content-type']), /text\/html/);
    assert.match(response.body, /Espere unos segundos/);
  });
});
