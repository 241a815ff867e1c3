// The after-the-answer queue is bounded: past BACKGROUND_QUEUE_LIMIT pending
// tasks, `run` refuses with SERVICE_BUSY (503, Retry-After) and runs nothing;
// room comes back as tasks finish. Tasks here wait on promises the test
// resolves, never on time.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import type { AppParts } from '../../src/deps.ts';
import {
  batchedTasks,
  createBackground,
  SERVICE_BUSY_RETRY_SECONDS,
} from '../../src/flows/background.ts';
import { FlowError } from '../../src/flows/errors.ts';
import { errors } from '../../src/messages/es.ts';
import { statusOf } from '../../src/plugins/error-statuses.ts';
import { useHtmlErrors, useJsonErrors } from '../../src/plugins/errors.ts';
import { resendForm } from '../../src/routes/context.ts';
import { brandFromEnv } from '../../src/site/brand.ts';
import { loadSite } from '../../src/site/site.ts';

/** A log that keeps what it was told. */
function capturingLog() {
  const lines: { obj: object; msg: string }[] = [];
  const keep = (obj: object, msg: string) => {
    lines.push({ obj, msg });
  };
  return { lines, warn: keep, error: keep };
}

/** A task that runs only when the test says so, and tells when it started. */
function heldTask() {
  let release!: () => void;
  let started = false;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    task: async () => {
      started = true;
      await gate;
    },
    release: () => release(),
    started: () => started,
  };
}

/** Asserts that `action` throws the full queue's FlowError. */
function assertBusy(action: () => void): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof FlowError, `expected a FlowError, got ${String(error)}`);
    assert.equal(error.code, 'SERVICE_BUSY');
    assert.equal(statusOf(error), 503);
    assert.equal(error.retryAfterSeconds, SERVICE_BUSY_RETRY_SECONDS);
    assert.equal(error.message, errors.SERVICE_BUSY);
    return true;
  });
}

describe('the after-the-answer queue', () => {
  it('runs a task after the current turn and reports it while pending', async () => {
    const background = createBackground(capturingLog(), 3);
    const held = heldTask();
    assert.equal(background.depth(), 0);
    background.run('held', held.task);
    assert.equal(held.started(), false, 'not before the answer');
    assert.equal(background.depth(), 1);
    held.release();
    await background.idle();
    assert.equal(held.started(), true);
    assert.equal(background.depth(), 0);
  });

  it('refuses a task past its limit with SERVICE_BUSY and runs nothing of it', async () => {
    const background = createBackground(capturingLog(), 2);
    const first = heldTask();
    const second = heldTask();
    background.run('first', first.task);
    background.run('second', second.task);
    assert.equal(background.depth(), 2);
    assert.equal(background.limit, 2);
    assert.equal(background.hasRoom(), false);

    let refusedRan = false;
    assertBusy(() =>
      background.run('refused', async () => {
        refusedRan = true;
      }),
    );
    assert.equal(background.depth(), 2, 'the refused task takes no place');

    first.release();
    second.release();
    await background.idle();
    assert.equal(refusedRan, false, 'the refused task never ran');
  });

  it('has room again as soon as a pending task finishes', async () => {
    const background = createBackground(capturingLog(), 1);
    const held = heldTask();
    background.run('held', held.task);
    assertBusy(() => background.run('refused', async () => {}));

    held.release();
    await background.idle();
    assert.equal(background.depth(), 0);
    assert.equal(background.hasRoom(), true);

    let ran = false;
    background.run('next', async () => {
      ran = true;
    });
    await background.idle();
    assert.equal(ran, true);
  });

  it('gives a failed task its place back and logs the failure', async () => {
    const log = capturingLog();
    const background = createBackground(log, 1);
    background.run('broken', async () => {
      throw new Error('database gone');
    });
    await background.idle();
    assert.equal(background.hasRoom(), true);
    assert.equal(log.lines.length, 1);
    const [line] = log.lines;
    assert.equal(line?.msg, 'background task failed');
    assert.equal((line?.obj as { task?: string } | undefined)?.task, 'broken');
  });

  it('logs a task that throws before its first await instead of crashing', async () => {
    const log = capturingLog();
    const background = createBackground(log, 1);
    background.run('sync-throw', (() => {
      throw new Error('thrown at once');
    }) as () => Promise<void>);
    await background.idle();
    assert.equal(log.lines.length, 1);
    assert.equal(background.depth(), 0);
  });

  it('accepts 1000 pending tasks by default', async () => {
    const background = createBackground(capturingLog());
    assert.equal(background.limit, 1000);
    const held = heldTask();
    for (let i = 0; i < 1000; i += 1) background.run(`task-${i}`, held.task);
    assertBusy(() => background.run('one too many', held.task));
    held.release();
    await background.idle();
    assert.equal(background.depth(), 0);
  });
});

describe('a busy answer (SERVICE_BUSY)', () => {
  /** An app with the portal's error handlers (pages, and the API's under /api/) and routes that meet a full queue. */
  async function busyApp() {
    const app = Fastify({ logger: false });
    // The error page is drawn with the site's files and brand (as buildApp decorates it).
    app.decorate('parts', { site: await loadSite(brandFromEnv({}, [])) } as AppParts);
    useHtmlErrors(app);
    const background = createBackground(capturingLog(), 1);
    const held = heldTask();
    background.run('held', held.task);
    const busy = async () => background.run('refused', async () => {});
    await app.register(
      async (api) => {
        useJsonErrors(api);
        api.post('/v1/busy', busy);
      },
      { prefix: '/api/' },
    );
    app.post('/pagina', busy);
    app.post('/formulario', async (_request, reply) => {
      try {
        await busy();
        return reply.send('ok');
      } catch (error) {
        return resendForm(reply, error, (e) => `<form><p>${e.message}</p></form>`);
      }
    });
    await app.ready();
    return {
      app,
      close: async () => {
        held.release();
        await background.idle();
        await app.close();
      },
    };
  }

  it('answers the API 503 with Retry-After and the Spanish message', async () => {
    const { app, close } = await busyApp();
    const response = await app.inject({ method: 'POST', url: '/api/v1/busy' });
    assert.equal(response.statusCode, 503);
    assert.equal(response.headers['retry-after'], String(SERVICE_BUSY_RETRY_SECONDS));
    assert.deepEqual(response.json(), {
      error: { code: 'SERVICE_BUSY', message: errors.SERVICE_BUSY, fields: {} },
    });
    await close();
  });

  it('answers a page 503 with Retry-After and the Spanish message, no stack', async () => {
    const { app, close } = await busyApp();
    const response = await app.inject({ method: 'POST', url: '/pagina' });
    assert.equal(response.statusCode, 503);
    assert.equal(response.headers['retry-after'], String(SERVICE_BUSY_RETRY_SECONDS));
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.ok(response.body.includes(errors.SERVICE_BUSY), response.body);
    assert.doesNotMatch(response.body, /at .*\.ts:\d+/);
    await close();
  });

  it('re-renders a form 503 with Retry-After and the Spanish message', async () => {
    const { app, close } = await busyApp();
    const response = await app.inject({ method: 'POST', url: '/formulario' });
    assert.equal(response.statusCode, 503);
    assert.equal(response.headers['retry-after'], String(SERVICE_BUSY_RETRY_SECONDS));
    assert.ok(response.body.includes(errors.SERVICE_BUSY), response.body);
    await close();
  });
});

describe('work handed off in batches', () => {
  /** A batch handler that keeps each batch and waits, per batch, for the test's word. */
  function heldBatches() {
    const batches: string[][] = [];
    const gates: (() => void)[] = [];
    let failWhen: ((items: string[]) => boolean) | null = null;
    const handle = async (items: string[]) => {
      batches.push(items);
      await new Promise<void>((resolve) => gates.push(resolve));
      if (failWhen?.(items)) throw new Error(`bad batch ${items.join(',')}`);
    };
    /** Lets every batch started so far finish; resolves once a next one started or none is left. */
    const releaseAll = async () => {
      for (const gate of gates.splice(0)) gate();
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    };
    return {
      batches,
      handle,
      releaseAll,
      failWhen: (rule: (items: string[]) => boolean) => {
        failWhen = rule;
      },
    };
  }

  /** Runs turns of the event loop until `done()` or a hundred turns passed. */
  async function turnsUntil(done: () => boolean): Promise<void> {
    for (let i = 0; i < 100 && !done(); i += 1)
      await new Promise((resolve) => setImmediate(resolve));
  }

  it('takes what was handed off in one turn as one batch, in order, and what comes meanwhile as the next', async () => {
    const background = createBackground(capturingLog(), 100);
    const held = heldBatches();
    const work = batchedTasks(background, 'items', held.handle);
    for (const item of ['a', 'b', 'c']) work.add(item);
    await turnsUntil(() => held.batches.length === 1);
    assert.deepEqual(held.batches, [['a', 'b', 'c']]);

    // Handed off while the first batch runs: they wait for the next one.
    for (const item of ['d', 'e']) work.add(item);
    await turnsUntil(() => background.depth() === 5);
    assert.equal(background.depth(), 5, 'each item holds its place until its batch is done');
    assert.equal(held.batches.length, 1, 'one batch at a time');
    await held.releaseAll();
    await turnsUntil(() => held.batches.length === 2);
    assert.deepEqual(held.batches[1], ['d', 'e']);
    assert.equal(background.depth(), 2);
    await held.releaseAll();
    await background.idle();
    assert.equal(background.depth(), 0);
  });

  it('takes at most `limit` items in a batch', async () => {
    const background = createBackground(capturingLog(), 100);
    const held = heldBatches();
    const work = batchedTasks(background, 'items', held.handle, { limit: 2 });
    for (const item of ['a', 'b', 'c', 'd', 'e']) work.add(item);
    for (let round = 0; round < 3; round += 1) {
      await turnsUntil(() => held.batches.length === round + 1);
      await held.releaseAll();
    }
    await background.idle();
    assert.deepEqual(held.batches, [['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('does a failed batch again one item at a time: only the bad item fails, and it is logged', async () => {
    const log = capturingLog();
    const background = createBackground(log, 100);
    const held = heldBatches();
    held.failWhen((items) => items.includes('bad'));
    const work = batchedTasks(background, 'items', held.handle);
    for (const item of ['a', 'bad', 'c']) work.add(item);
    const drained = background.idle();
    for (let round = 0; round < 4; round += 1) {
      await turnsUntil(() => held.batches.length === round + 1);
      await held.releaseAll();
    }
    await drained;
    assert.deepEqual(held.batches, [['a', 'bad', 'c'], ['a'], ['bad'], ['c']]);
    assert.equal(log.lines.length, 1);
    assert.equal(log.lines[0]?.msg, 'background task failed');
    assert.equal((log.lines[0]?.obj as { task?: string } | undefined)?.task, 'items');
    assert.equal(background.depth(), 0);
  });

  it('refuses an item past the queue limit with SERVICE_BUSY, as run does', async () => {
    const background = createBackground(capturingLog(), 2);
    const held = heldBatches();
    const work = batchedTasks(background, 'items', held.handle);
    work.add('a');
    work.add('b');
    assertBusy(() => work.add('c'));
    await turnsUntil(() => held.batches.length === 1);
    await held.releaseAll();
    await background.idle();
    assert.deepEqual(held.batches, [['a', 'b']]);
  });

  it('waits for its pace before each batch, and tells pacing work when a stop drains the queue', async () => {
    const background = createBackground(capturingLog(), 100);
    const held = heldBatches();
    let paced = 0;
    let letGo: () => void = () => {};
    const pace = () => {
      paced += 1;
      return new Promise<void>((resolve) => {
        letGo = resolve;
      });
    };
    const work = batchedTasks(background, 'items', held.handle, { pace });
    work.add('a');
    await turnsUntil(() => paced === 1);
    assert.equal(held.batches.length, 0, 'no batch before its pace');
    assert.equal(background.isDraining(), false);
    const drained = background.idle();
    assert.equal(background.isDraining(), true, 'a stop waits in idle()');
    letGo();
    await turnsUntil(() => held.batches.length === 1);
    await held.releaseAll();
    await drained;
    assert.equal(background.isDraining(), false);
    assert.deepEqual(held.batches, [['a']]);
  });
});
