// The login page's weight and speed as a member's phone meets them (issue 12,
// "Light pages"), measured in Chromium through Playwright:
// - cold: a fresh browser context opens `/`; every request the context makes
//   until the page has finished loading (the page's, its workers' and the
//   service worker's, which Playwright reports on the BrowserContext in
//   Chromium), with the bytes that came over the wire;
// - warm: a second visit to `/` in the same context (a new page), counted the
//   same way: what still goes over the wire once everything cacheable is kept;
// - usable on slow 4G: from navigation start until the form and the CAPTCHA
//   are ready, on an emulated slow phone, median of several fresh contexts.
// Used by `npm run weight` (scripts/weight.ts) and by the e2e suite
// (test/e2e/weight.spec.ts).
//
// Bytes on the wire are what Chromium counts for a response: its headers
// plus its body as sent (compressed), i.e. CDP `Network.loadingFinished`
// `encodedDataLength`. Request bytes (uploads) are not counted. Playwright's
// `request.sizes()` carries that number (responseHeadersSize is the raw
// header block, responseBodySize is encodedDataLength minus it), and it is
// the one read here, for every request of the context; a page-level CDP
// session would not do, as it sees neither the service worker's requests nor
// the answers to worker scripts. Checked on Chromium 156 against CDP and
// against `curl -H 'accept-encoding: br, gzip'` per file (same bytes):
// - network answer: headers + body = encodedDataLength, the body compressed
//   (brotli or gzip as sent), not decoded;
// - HTTP cache hit (disk or memory): encodedDataLength is 0, but Playwright
//   recomputes responseHeadersSize from the cached headers and makes
//   responseBodySize its negative: only the sum (0) means anything. A sum
//   of 0 is how a cache hit is told (Playwright does not expose CDP's
//   fromDiskCache / requestServedFromCache);
// - answered by the service worker (`response.fromServiceWorker()`): the
//   page's request does not touch the wire; what the worker fetched for it is
//   a request of its own, made by the service worker, and counted there;
// - worker and service-worker scripts: Chromium counts their headers only
//   (body 0), or nothing at all for a service-worker script answered 404;
//   their body is taken from Content-Length, or, without one, by fetching the
//   file once more with the same Accept-Encoding;
// - a request the service worker passes on (e.g. the page itself, on the
//   warm visit): Chromium never sends the raw headers Playwright waits for,
//   so sizes() never answers; its headers as reported with the answer, plus
//   its Content-Length (marked in the table);
// - a request that failed after its answer began (a module script answered
//   404): Playwright's fallback, headers + Content-Length.
import { request as httpGet } from 'node:http';
import { request as httpsGet } from 'node:https';
import type { Browser, BrowserContext, Page, Request, Response } from '@playwright/test';

/** KB as the targets mean them. */
export const KB = 1024;

/** Issue 12's targets for the login page. */
export const TARGETS = {
  coldBytes: 60 * KB,
  warmBytes: 8 * KB,
  usableMs: 2000,
} as const;

/** The slow-4G phone of issue 12 (as Lighthouse's "slow 4G", with DevTools throttling). */
export const SLOW_4G = {
  latencyMs: 150,
  downloadBitsPerSecond: 1_600_000,
  uploadBitsPerSecond: 750_000,
  cpuSlowdown: 4,
} as const;

/** The network is considered done when no request was in flight for this long. */
const QUIET_MS = 500;
/** How long a visit may take to finish loading before it is reported as it stands. */
const SETTLE_TIMEOUT_MS = 30_000;
/** How long the slow-4G page may take to become usable before the run fails. */
const USABLE_TIMEOUT_MS = 60_000;

/** Where a response came from. */
export type Source = 'network' | 'cache' | 'service worker' | 'failed' | 'unfinished';

export interface RequestFigure {
  url: string;
  method: string;
  /** null when no answer arrived. */
  status: number | null;
  /** Response headers + encoded body that came over the wire. */
  bytes: number;
  source: Source;
  /** The page (and its dedicated workers), or the service worker itself. */
  madeBy: 'page' | 'service worker';
  /** How the bytes were found when Chromium's own count could not be used. */
  note?: string;
}

export interface VisitFigures {
  /** Bytes over the wire, all requests together. */
  bytes: number;
  /** Every request the context made, wherever it was answered from. */
  requests: number;
  /** Requests that went over the wire (not from a cache or the service worker). */
  overTheWire: number;
  entries: RequestFigure[];
}

export interface UsableFigures {
  /** Each run, in the order they ran. */
  runsMs: number[];
  medianMs: number;
  /** False when the page had no ALTCHA widget (another CAPTCHA, or none): then form and scripts only. */
  captcha: boolean;
}

export interface WeightFigures {
  /** The page measured. */
  url: string;
  /** The browser, e.g. "chromium 156.0.8078.114". */
  browser: string;
  cold: VisitFigures;
  warm: VisitFigures;
  /** null when not measured (the e2e suite measures bytes only). */
  usable: UsableFigures | null;
}

/** A Browser (each measurement opens its own contexts) or a factory of fresh contexts. */
export type ContextSource = Browser | (() => Promise<BrowserContext>);

function newContext(source: ContextSource): Promise<BrowserContext> {
  return typeof source === 'function' ? source() : source.newContext();
}

function browserName(context: BrowserContext): string {
  const browser = context.browser();
  return browser ? `${browser.browserType().name()} ${browser.version()}` : 'unknown browser';
}

function loginUrl(baseUrl: string): string {
  return new URL('/', baseUrl).href;
}

/** Cold and warm visits of the login page, in one fresh context. */
export async function measureVisits(
  source: ContextSource,
  baseUrl: string,
): Promise<Pick<WeightFigures, 'url' | 'browser' | 'cold' | 'warm'>> {
  const url = loginUrl(baseUrl);
  const context = await newContext(source);
  try {
    const recorder = new RequestRecorder(context);
    const cold = await visit(context, recorder, url);
    const warm = await visit(context, recorder, url);
    return { url, browser: browserName(context), cold, warm };
  } finally {
    await context.close();
  }
}

/** Everything: cold and warm visits, then the slow-4G runs. */
export async function measureWeight(
  source: ContextSource,
  baseUrl: string,
  options: { usableRuns?: number } = {},
): Promise<WeightFigures> {
  const visits = await measureVisits(source, baseUrl);
  const usable = await measureUsable(source, baseUrl, options.usableRuns ?? 3);
  return { ...visits, usable };
}

/** One visit: a new page opens the URL; counted until the context's network is done. */
async function visit(
  context: BrowserContext,
  recorder: RequestRecorder,
  url: string,
): Promise<VisitFigures> {
  recorder.start();
  const page = await context.newPage();
  let entries: RequestFigure[];
  try {
    await page.goto(url, { waitUntil: 'load' });
    await settle(page, recorder);
  } finally {
    // Read while the page is open: Playwright cannot tell a closed page's sizes.
    entries = await recorder.stop();
    await page.close();
  }
  return {
    bytes: entries.reduce((sum, entry) => sum + entry.bytes, 0),
    requests: entries.length,
    overTheWire: entries.filter((entry) => entry.bytes > 0).length,
    entries,
  };
}

/**
 * Finished loading: the network went quiet and, when the page registered a
 * service worker, that worker finished installing (its precache is part of
 * what the first visit costs), and the network went quiet again.
 */
async function settle(page: Page, recorder: RequestRecorder): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  await recorder.quiet(deadline);
  const installing = page
    .evaluate(async () => {
      const container = navigator.serviceWorker;
      if (!container) return;
      const registration = await container.getRegistration();
      const worker = registration?.installing ?? registration?.waiting;
      if (!worker) return;
      // Installed (precache done), activated, or redundant (its install failed).
      await new Promise<void>((resolve) => {
        const check = () => {
          if (worker.state !== 'installing' && worker.state !== 'activating') resolve();
        };
        worker.addEventListener('statechange', check);
        check();
      });
    })
    // A page that navigated or closed meanwhile has nothing more to install.
    .catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
  });
  try {
    await Promise.race([installing, timeout]);
  } finally {
    clearTimeout(timer);
  }
  await recorder.quiet(deadline);
}

type Outcome = 'finished' | 'failed' | 'unfinished';

/** Watches every request of a context, within the windows between start() and stop(). */
class RequestRecorder {
  #recording = false;
  #figures: Array<Promise<RequestFigure>> = [];
  /** The requests of the window still in flight, each with what ends its wait. */
  #inFlight = new Map<Request, (outcome: Outcome) => void>();
  /** Told whenever a request starts or ends (by quiet()). */
  #changed: (() => void) | undefined;

  constructor(context: BrowserContext) {
    context.on('request', (request) => {
      if (!this.#recording || !/^https?:/.test(request.url())) return;
      const ended = new Promise<Outcome>((resolve) => this.#inFlight.set(request, resolve));
      this.#figures.push(ended.then((outcome) => figureOf(request, outcome)));
      this.#changed?.();
    });
    context.on('requestfinished', (request) => this.#end(request, 'finished'));
    context.on('requestfailed', (request) => this.#end(request, 'failed'));
  }

  #end(request: Request, outcome: Outcome): void {
    const end = this.#inFlight.get(request);
    if (!end) return;
    this.#inFlight.delete(request);
    end(outcome);
    this.#changed?.();
  }

  start(): void {
    this.#recording = true;
    this.#figures = [];
  }

  /** Ends the window; requests still in flight are reported as unfinished. */
  async stop(): Promise<RequestFigure[]> {
    this.#recording = false;
    for (const request of [...this.#inFlight.keys()]) this.#end(request, 'unfinished');
    const figures = await Promise.all(this.#figures);
    this.#figures = [];
    return figures;
  }

  /** Resolves once no request was in flight for QUIET_MS, or at the deadline. */
  quiet(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(timer);
        this.#changed = undefined;
        resolve();
      };
      const arm = () => {
        clearTimeout(timer);
        const left = deadline - Date.now();
        if (left <= 0) return finish();
        timer = setTimeout(finish, this.#inFlight.size === 0 ? Math.min(QUIET_MS, left) : left);
      };
      this.#changed = arm;
      arm();
    });
  }
}

/** What one request cost on the wire (see the reading of request.sizes() at the top). */
async function figureOf(request: Request, outcome: Outcome): Promise<RequestFigure> {
  const base = {
    url: request.url(),
    method: request.method(),
    madeBy: request.serviceWorker() ? ('service worker' as const) : ('page' as const),
  };
  // Its answer and sizes would only be known once it ends.
  if (outcome === 'unfinished') {
    return { ...base, status: null, bytes: 0, source: 'unfinished', note: 'still loading' };
  }
  const failed = outcome === 'failed';
  const response = await request.response().catch(() => null);
  if (!response) return { ...base, status: null, bytes: 0, source: 'failed' };
  const status = response.status();
  if (!failed && response.fromServiceWorker()) {
    return { ...base, status, bytes: 0, source: 'service worker' };
  }
  const source = failed ? 'failed' : 'network';
  const hasBody = request.method() !== 'HEAD' && status !== 204 && status !== 304;
  const sizes = await within(request.sizes(), null);
  if (!sizes) {
    // Playwright waits for raw headers that Chromium never sends for some of
    // the service worker's fetches (e.g. a navigation it passes on). Such a
    // request went to the network (a cache hit has no raw headers to wait
    // for): its headers as received, and its body by length.
    const headers = headersSize(response);
    const length = hasBody ? await bodyLength(request, response) : { bytes: 0, how: '' };
    return {
      ...base,
      status,
      bytes: headers + (length?.bytes ?? 0),
      source,
      note: `sizes not reported; headers counted${length?.how ? `, ${length.how}` : ''}`,
    };
  }
  const headers = sizes.responseHeadersSize;
  const body = sizes.responseBodySize;
  // Fetched by the browser for the service worker, never from the HTTP cache
  // (updateViaCache's default): Chromium counts it as 0 or as headers only.
  const serviceWorkerScript =
    base.madeBy === 'service worker' && request.resourceType() === 'script';
  if (!failed && headers + body <= 0 && !serviceWorkerScript) {
    return { ...base, status, bytes: 0, source: 'cache' };
  }
  if (hasBody && body <= 0) {
    // A worker's script, the service worker's, or an answer cut short:
    // Chromium counted its headers only.
    const length = await bodyLength(request, response);
    if (length !== null) {
      return { ...base, status, bytes: headers + length.bytes, source, note: length.how };
    }
  }
  return { ...base, status, bytes: Math.max(0, headers + body), source };
}

/** How long to wait for what Playwright may never learn (raw headers). */
const HEADERS_TIMEOUT_MS = 2000;

function within<T>(promise: Promise<T>, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.catch(() => fallback),
    new Promise<T>((resolve) => {
      timer = setTimeout(() => resolve(fallback), HEADERS_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** An HTTP/1.1 header block's length, from the headers Chromium reported with the answer. */
function headersSize(response: Response): number {
  let size = `HTTP/1.1 ${response.status()} ${response.statusText()}\r\n`.length + 2;
  for (const [name, joined] of Object.entries(response.headers())) {
    // Repeated headers (Set-Cookie) come joined by newlines.
    for (const value of joined.split('\n')) size += `${name}: ${value}\r\n`.length;
  }
  return size;
}

/** A body's size on the wire from its Content-Length, else by fetching it again. */
async function bodyLength(
  request: Request,
  response: Response,
): Promise<{ bytes: number; how: string } | null> {
  const declared = response.headers()['content-length'];
  if (declared !== undefined && /^\d+$/.test(declared)) {
    return { bytes: Number(declared), how: 'body from Content-Length' };
  }
  if (request.method() !== 'GET') return null;
  // Chromium adds Accept-Encoding below the page: only the raw headers have it.
  const acceptEncoding =
    (await within(request.headerValue('accept-encoding'), null)) ?? 'gzip, deflate, br, zstd';
  const bytes = await encodedBodyLength(request.url(), acceptEncoding);
  return bytes === null ? null : { bytes, how: 'body fetched again' };
}

/** The body of a GET as it comes over the wire (not decompressed), in bytes. */
function encodedBodyLength(url: string, acceptEncoding: string): Promise<number | null> {
  const get = url.startsWith('https:') ? httpsGet : httpGet;
  return new Promise((resolve) => {
    const outgoing = get(url, { headers: { 'accept-encoding': acceptEncoding } }, (incoming) => {
      let length = 0;
      incoming.on('data', (chunk: Buffer) => {
        length += chunk.length;
      });
      incoming.on('end', () => resolve(length));
      incoming.on('error', () => resolve(null));
    });
    outgoing.setTimeout(10_000, () => outgoing.destroy());
    outgoing.on('error', () => resolve(null));
    outgoing.end();
  });
}

/**
 * The page is usable: the login form is there, the page's scripts ran
 * (DOMContentLoaded has been handled, which comes after every module and
 * deferred script), and the ALTCHA widget rendered its checkbox (in its
 * shadow root or its light DOM). Returns the time since navigation start.
 * Runs in the page.
 */
function usableAt(): { ms: number; captcha: boolean } | false {
  const navigation = performance.getEntriesByType('navigation')[0] as
    | PerformanceNavigationTiming
    | undefined;
  if (!navigation || navigation.domContentLoadedEventEnd === 0) return false;
  if (!document.getElementById('document') || !document.getElementById('password')) return false;
  const widget = document.querySelector('altcha-widget');
  // After DOMContentLoaded every element of the page is parsed: no widget, no ALTCHA here.
  if (!widget) return { ms: performance.now(), captcha: false };
  const box =
    widget.shadowRoot?.querySelector('input[type="checkbox"]') ??
    widget.querySelector('input[type="checkbox"]');
  return box ? { ms: performance.now(), captcha: true } : false;
}

/** Median time to usable on the slow-4G phone, each run in a fresh context. */
export async function measureUsable(
  source: ContextSource,
  baseUrl: string,
  runs = 3,
): Promise<UsableFigures> {
  const url = loginUrl(baseUrl);
  const runsMs: number[] = [];
  let captcha = true;
  for (let run = 0; run < runs; run += 1) {
    const context = await newContext(source);
    try {
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: SLOW_4G.latencyMs,
        // CDP wants bytes per second.
        downloadThroughput: SLOW_4G.downloadBitsPerSecond / 8,
        uploadThroughput: SLOW_4G.uploadBitsPerSecond / 8,
      });
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: SLOW_4G.cpuSlowdown });
      await page.goto(url, { waitUntil: 'commit', timeout: USABLE_TIMEOUT_MS });
      // Checked at every frame: the first frame where it holds is when a
      // member could start typing and tick the box.
      const ready = await page.waitForFunction(usableAt, undefined, {
        polling: 'raf',
        timeout: USABLE_TIMEOUT_MS,
      });
      const reading = (await ready.jsonValue()) as { ms: number; captcha: boolean };
      runsMs.push(reading.ms);
      captcha &&= reading.captcha;
    } finally {
      await context.close();
    }
  }
  return { runsMs, medianMs: median(runsMs), captcha };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Whether every measured figure meets its target. */
export function targetsMet(figures: WeightFigures): boolean {
  return (
    figures.cold.bytes <= TARGETS.coldBytes &&
    figures.warm.bytes <= TARGETS.warmBytes &&
    (figures.usable === null || figures.usable.medianMs <= TARGETS.usableMs)
  );
}

const kb = (bytes: number) => `${(bytes / KB).toFixed(1)} KB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const verdict = (met: boolean) => (met ? 'met' : 'NOT met');

/** The figures as a table for people, with the targets and whether each is met. */
export function formatWeight(figures: WeightFigures): string {
  const { cold, warm, usable } = figures;
  const rows: string[][] = [
    [
      `cold cache: bytes on the wire (${cold.requests} requests, ${cold.overTheWire} over the wire)`,
      kb(cold.bytes),
      `≤ ${kb(TARGETS.coldBytes)}`,
      verdict(cold.bytes <= TARGETS.coldBytes),
    ],
    [
      `warm cache: bytes on the wire (${warm.requests} requests, ${warm.overTheWire} over the wire)`,
      kb(warm.bytes),
      `≤ ${kb(TARGETS.warmBytes)}`,
      verdict(warm.bytes <= TARGETS.warmBytes),
    ],
    usable
      ? [
          `usable on slow 4G, median of ${usable.runsMs.length}${usable.captcha ? '' : ' (no ALTCHA on the page)'}`,
          seconds(usable.medianMs),
          `≤ ${seconds(TARGETS.usableMs)}`,
          verdict(usable.medianMs <= TARGETS.usableMs),
        ]
      : [
          'usable on slow 4G (npm run weight)',
          'not measured',
          `≤ ${seconds(TARGETS.usableMs)}`,
          '',
        ],
  ];
  const lines = [
    `Login page weight: ${figures.url} (${figures.browser}; KB = 1024 bytes)`,
    '',
    ...table(['', 'measured', 'target', ''], rows, ['left', 'right', 'right', 'left']),
  ];
  if (usable) {
    lines.push(
      '',
      `Slow 4G: ${SLOW_4G.latencyMs} ms latency, ${SLOW_4G.downloadBitsPerSecond / 1e6} Mbit/s down, ` +
        `${SLOW_4G.uploadBitsPerSecond / 1e3} kbit/s up, CPU ×${SLOW_4G.cpuSlowdown}; ` +
        `runs: ${usable.runsMs.map(seconds).join(', ')}. Usable = #document and #password present, ` +
        'DOMContentLoaded handled, the ALTCHA checkbox rendered.',
    );
  }
  for (const [title, visited] of [
    ['Cold visit (fresh context)', cold],
    ['Warm visit (same context, new page)', warm],
  ] as const) {
    lines.push('', `${title}:`);
    lines.push(
      ...table(
        ['status', 'bytes', 'from', 'made by', 'url'],
        visited.entries.map((entry) => [
          entry.status === null ? '-' : String(entry.status),
          String(entry.bytes),
          entry.source,
          entry.madeBy,
          `${entry.method === 'GET' ? '' : `${entry.method} `}${shortUrl(entry.url, figures.url)}${entry.note ? ` (${entry.note})` : ''}`,
        ]),
        ['right', 'right', 'left', 'left', 'left'],
      ),
    );
  }
  return lines.join('\n');
}

/** The one machine-readable line, last in `npm run weight`'s output. */
export function weightLine(figures: WeightFigures): string {
  const round1 = (bytes: number) => Math.round((bytes / KB) * 10) / 10;
  return `WEIGHT ${JSON.stringify({
    cold_kb: round1(figures.cold.bytes),
    warm_kb: round1(figures.warm.bytes),
    cold_requests: figures.cold.requests,
    usable_slow4g_ms: figures.usable ? Math.round(figures.usable.medianMs) : null,
  })}`;
}

function shortUrl(url: string, page: string): string {
  const origin = new URL(page).origin;
  return url.startsWith(`${origin}/`) ? url.slice(origin.length) : url;
}

function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly ('left' | 'right')[],
): string[] {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    `  ${cells
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return align[column] === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd()}`;
  return [line(header), ...rows.map(line)];
}
