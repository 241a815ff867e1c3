// `npm run weight [-- --url URL]`: how heavy and how fast the login page is
// (issue 12's "Light pages" targets), measured in Chromium by
// scripts/weight/measure.ts. Without --url it starts the portal as a
// newcomer would (`node --import tsx src/server.ts`, a fresh embedded
// database, the defaults: ALTCHA, development) on a free port, and stops it
// afterwards. Prints the table, then one line `WEIGHT {json}`; exits 0 when
// every target is met, 1 otherwise or on error.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from '@playwright/test';
import playwrightConfig from '../playwright.config.ts';
import { formatWeight, measureWeight, targetsMet, weightLine } from './weight/measure.ts';
import { type Portal, startPortal } from './weight/portal.ts';

const USAGE = `usage: npm run weight [-- --url URL]
  without --url: starts the portal with its defaults on a free port and measures it
  --url URL      measures the login page of a running portal instead`;

function parseArguments(argv: readonly string[]): { url: string | null } {
  let url: string | null = null;
  for (let i = 0; i < argv.length; i += 1) {
    const argument = argv[i] as string;
    if (argument === '--url' && argv[i + 1] !== undefined) {
      url = argv[i + 1] as string;
      i += 1;
    } else if (argument.startsWith('--url=')) {
      url = argument.slice('--url='.length);
    } else {
      throw new Error(`unknown argument: ${argument}\n${USAGE}`);
    }
  }
  if (url !== null && !/^https?:\/\//.test(url))
    throw new Error(`--url: not an http(s) address: ${url}`);
  return { url };
}

/** Chromium as the e2e suite launches it (playwright.config.ts). */
function launchBrowser(): Promise<Browser> {
  const launchOptions = playwrightConfig.use?.launchOptions;
  if (!launchOptions?.executablePath) {
    throw new Error('playwright.config.ts names no Chromium (use.launchOptions.executablePath)');
  }
  // Signals are ours to handle: Playwright's own handler would exit before
  // the portal is stopped.
  return chromium.launch({
    ...launchOptions,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
}

/** Set by Ctrl-C: what fails afterwards is the interruption, not worth reporting. */
let interrupted = false;

async function main(): Promise<number> {
  const { url: given } = parseArguments(process.argv.slice(2));
  let dataDir: string | undefined;
  let portal: Portal | undefined;
  let browser: Browser | undefined;
  const cleanUp = async () => {
    await browser?.close().catch(() => {});
    browser = undefined;
    await portal?.stop();
    portal = undefined;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  };
  // Ctrl-C stops the portal and the browser too (a second one stops at once).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) process.exit(1);
      interrupted = true;
      process.stderr.write('weight: interrupted, stopping\n');
      void cleanUp().finally(() => process.exit(1));
    });
  }
  try {
    let url = given;
    if (url === null) {
      dataDir = mkdtempSync(join(tmpdir(), 'autogestion-weight-'));
      process.stderr.write('starting the portal (embedded database, defaults)…\n');
      portal = await startPortal(dataDir);
      await portal.ready;
      url = portal.url;
    }
    browser = await launchBrowser();
    process.stderr.write(
      `measuring ${new URL('/', url).href} in ${browser.browserType().name()} ${browser.version()}…\n`,
    );
    const figures = await measureWeight(browser, url);
    process.stdout.write(`${formatWeight(figures)}\n\n`);
    // Timings depend on what else the machine is doing: said with them.
    process.stdout.write(
      `Machine: ${availableParallelism()} CPUs, load average ${(loadavg()[0] ?? 0).toFixed(1)} (timings compare only on a quiet machine).\n`,
    );
    const met = targetsMet(figures);
    process.stdout.write(met ? 'All targets met.\n' : 'Some targets are NOT met.\n');
    process.stdout.write(`${weightLine(figures)}\n`);
    return met ? 0 : 1;
  } finally {
    await cleanUp();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (interrupted) return;
    process.stderr.write(`weight: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
