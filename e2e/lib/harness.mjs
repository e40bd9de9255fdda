// Launches Debian's Chromium through playwright-core and watches every page
// for what a user would call broken: console errors, uncaught exceptions,
// failed requests, HTTP errors, and any request that leaves the page's origin.

import { chromium } from 'playwright-core';

export const BASE_URL = process.env.E2E_BASE_URL ?? 'http://127.0.0.1:8080/';
export const ROOT_URL = process.env.E2E_ROOT_URL ?? new URL('/', BASE_URL).href;

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** One browser for a test file. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  });
}

/**
 * A new page that records problems. `problems()` lists them; a test ends with
 * `assertClean(t)` so that a console error anywhere fails it.
 */
export async function openPage(browser, { viewport = { width: 1280, height: 900 }, colorScheme = 'light', reducedMotion = 'no-preference' } = {}) {
  const context = await browser.newContext({ viewport, colorScheme, reducedMotion });
  const page = await context.newPage();
  const problems = [];
  const origin = new URL(BASE_URL).origin;
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  // What the Content-Security-Policy refuses is a problem too, in the page
  // and in its workers (the browser also logs it, but not always as an
  // error the page's console reports).
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`policy violation: ${e.effectiveDirective} refused ${e.blockedURI || 'inline'}`);
    });
  });
  page.on('worker', (worker) => {
    worker
      .evaluate(() => {
        self.addEventListener('securitypolicyviolation', (e) => {
          self.__whfbViolations = (self.__whfbViolations ?? []).concat(`${e.effectiveDirective} refused ${e.blockedURI || 'inline'}`);
        });
      })
      .catch(() => {});
  });
  // A navigation cancels what the page it replaces was still loading (say, the
  // favicon): that is the browser's doing, not a failure of the page. Requests
  // are numbered by the main-frame navigation they belong to.
  let generation = 0;
  const issuedIn = new WeakMap();
  // Chromium also asks for the favicon again after a history change and
  // cancels that request at the next one: not the page's failure either.
  page.on('requestfailed', (req) => {
    const error = req.failure()?.errorText;
    if (error === 'net::ERR_ABORTED' && issuedIn.get(req) < generation) return;
    if (error === 'net::ERR_ABORTED' && /\/favicon[^/]*$/.test(new URL(req.url()).pathname)) return;
    problems.push(`request failed: ${req.url()} (${error})`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  page.on('request', (req) => {
    if (req.isNavigationRequest() && req.frame() === page.mainFrame()) generation += 1;
    issuedIn.set(req, generation);
    const url = req.url();
    if (url.startsWith('data:') || url.startsWith('blob:')) return;
    if (new URL(url).origin !== origin) problems.push(`off-origin request: ${url}`);
  });
  return { context, page, problems };
}

/** The engine's worker (started from a blob: URL, named `whfb-engine`), or undefined. */
export async function engineWorker(page) {
  for (const worker of page.workers()) {
    const name = await worker.evaluate(() => self.name).catch(() => '');
    if (name === 'whfb-engine') return worker;
  }
  return undefined;
}

/** What the policy refused in the page's workers so far. */
export async function workerViolations(page) {
  const found = [];
  for (const worker of page.workers()) {
    const seen = await worker.evaluate(() => self.__whfbViolations ?? []).catch(() => []);
    found.push(...seen.map((v) => `policy violation in a worker: ${v}`));
  }
  return found;
}

/** Fails with every recorded problem. */
export function assertNoProblems(problems) {
  if (problems.length > 0) {
    throw new Error(`the page reported ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  }
}
