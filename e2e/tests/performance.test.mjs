// What a user feels: how fast the catalog becomes usable, how quickly a step
// appears, whether the page ever freezes. Measured on the release build in
// headless Chromium and printed, so the numbers can be quoted.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { launch, openPage, assertNoProblems, engineWorker, workerViolations, BASE_URL } from '../lib/harness.mjs';
import { ExplorerPage } from '../pages/explorer.mjs';
import { ConditionsPanel, ClockPanel } from '../pages/faults.mjs';
import { FLOW_SLUGS as FLOWS } from '../lib/registry.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Records every main-thread task over 50 ms from the first byte on. */
async function watchLongTasks(page) {
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

test('the catalog becomes interactive, and the page weight is known', async () => {
  const { page, problems, context } = await openPage(browser);
  // Bodies are compressed after the timing: gzip in this process would
  // otherwise hold up the test's own clicks while the page loads.
  const bodies = new Map();
  page.on('response', async (res) => {
    try {
      bodies.set(res.url(), await res.body());
    } catch {
      // Redirects and aborted responses have no body.
    }
  });
  await page.goto(BASE_URL);
  await page.getByTestId('flow-card').first().waitFor();
  // Interactive: the guide answers a click.
  await page.getByTestId('guide-join-aad').click();
  await page.getByTestId('guide-managed').waitFor();
  const interactiveMs = await page.evaluate(() => performance.now());
  // Let the worker's code arrive too: it is part of what the page downloads.
  await page.getByTestId('guide-managed').click();
  const deadline = Date.now() + 20_000;
  while (![...bodies.keys()].some((url) => url.includes('whfb-worker_bg')) && Date.now() < deadline) {
    await page.waitForTimeout(100);
  }
  const sizes = new Map([...bodies].map(([url, body]) => [url, { raw: body.length, gzip: gzipSync(body, { level: 9 }).length }]));
  let raw = 0;
  let gzip = 0;
  for (const s of sizes.values()) {
    raw += s.raw;
    gzip += s.gzip;
  }
  console.log(`first load to an interactive catalog: ${interactiveMs.toFixed(0)} ms`);
  console.log(`transfer: ${sizes.size} files, ${(raw / 1024).toFixed(0)} KiB raw, ${(gzip / 1024).toFixed(0)} KiB gzipped`);
  for (const [url, s] of sizes) console.log(`  ${new URL(url).pathname.split('/').pop() || '/'}: ${(s.gzip / 1024).toFixed(1)} KiB gzipped`);
  // The figure is printed for the README; the limit only means "broken"
  // (the aim is about 0.4 s on this 2-core machine, more while it is busy).
  assert.ok(interactiveMs <= 5000, `interactive after ${interactiveMs} ms`);
  assertNoProblems(problems);
  await context.close();
});

test('stepping through every flow at top speed never freezes the main thread, asks no other origin and breaks no rule of the policy', { timeout: 400_000 }, async () => {
  const { page, problems, context } = await openPage(browser);
  await watchLongTasks(page);
  const explorer = new ExplorerPage(page);
  const uiMs = [];
  const longTasks = [];
  let steps = 0;
  for (const slug of FLOWS) {
    await explorer.goto(`${BASE_URL}?flow=${slug}`);
    await explorer.waitForStep(0);
    // The Content-Security-Policy is in force for every flow.
    const policy = await page.evaluate(() => document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.content ?? '');
    assert.match(policy, /connect-src 'self'/, slug);
    // Loading the page is not stepping: count tasks from here on.
    const from = await page.evaluate(() => performance.now());
    const total = await explorer.total();
    for (let i = 1; i < total; i++) {
      await page.keyboard.press('ArrowRight');
      assert.equal(await explorer.waitForStep(i), 'done', `${slug} step ${i + 1}`);
    }
    steps += total;
    // Steps already computed: time the page's own update, from the key press
    // to the DOM showing the step with its results (no cryptography involved).
    for (let i = total - 2; i >= 0; i--) {
      const ms = await page.evaluate(
        (index) =>
          new Promise((resolve) => {
            const t0 = performance.now();
            const done = () => {
              const el = document.querySelector(`[data-testid="step"][data-step="${index}"]`);
              return el && el.getAttribute('data-state') === 'current' && document.querySelector('[data-testid="event-summary"]');
            };
            const observer = new MutationObserver(() => {
              if (done()) {
                observer.disconnect();
                resolve(performance.now() - t0);
              }
            });
            observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
            window.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowLeft', bubbles: true }));
          }),
        i,
      );
      uiMs.push(ms);
    }
    const tasks = await page.evaluate((t) => window.__longTasks.filter((x) => x.start >= t), from);
    longTasks.push(...tasks.map((t) => ({ flow: slug, ...t })));
    // The harness records any request to another origin and anything the
    // Content-Security-Policy refused in the page; the workers' refusals are
    // read here, before the next flow's page replaces them.
    problems.push(...(await workerViolations(page)));
  }
  const worst = Math.max(0, ...longTasks.map((t) => t.duration));
  console.log(`${steps} steps in ${FLOWS.length} flows; step UI update median ${median(uiMs).toFixed(1)} ms, max ${Math.max(...uiMs).toFixed(1)} ms over ${uiMs.length} updates`);
  console.log(`main-thread long tasks (> 50 ms): ${longTasks.length}; longest ${worst.toFixed(0)} ms`);
  // The figures above are the measure (aim: no task over 50 ms, a step in a
  // frame); the limits only mean "broken", so that a busy 2-core machine
  // does not fail the run: a step update far beyond a frame, or a task long
  // enough to freeze the page.
  assert.ok(median(uiMs) <= 50, `median step update ${median(uiMs)} ms`);
  const frozen = longTasks.filter((t) => t.duration > 200);
  assert.equal(frozen.length, 0, `the main thread froze: ${JSON.stringify(frozen)}`);
  assertNoProblems(problems);
  await context.close();
});

test('a long session: three flows, five round trips each, conditions and edits changing; memory stays bounded, no stale step', { timeout: 900_000 }, async () => {
  // One page, never reloaded: flows switched from the catalog, conditions
  // changed in the conditions panel, the clock moved on as an edit.
  const { page, problems, context } = await openPage(browser);
  const explorer = new ExplorerPage(page);
  const conditions = new ConditionsPanel(page);
  const clock = new ClockPanel(page);
  const MiB = 1 << 20;
  /** The page's JavaScript heap and the engine worker's WebAssembly memory, in MiB. */
  const heap = async () => {
    const worker = await engineWorker(page);
    const workerWasm = worker ? await worker.evaluate(() => self.__whfbMemory?.buffer.byteLength ?? 0) : 0;
    const pageHeap = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0);
    return { pageJs: pageHeap / MiB, workerWasm: workerWasm / MiB };
  };
  const show = (h) => `page JS heap ${h.pageJs.toFixed(1)} MiB, worker WebAssembly memory ${h.workerWasm.toFixed(1)} MiB`;
  const flows = ['aadj-managed', 'hybrid-cert-sync', 'onprem-key'];
  await explorer.goto(`${BASE_URL}?flow=${flows[0]}`);
  await explorer.waitForStep(0);
  const first = await heap();
  console.log(`long session, at the start: ${show(first)}`);
  const reference = {};
  const started = Date.now();
  for (const [f, slug] of flows.entries()) {
    if (f > 0) {
      await page.getByTestId('back-to-catalog').click();
      await page.locator(`[data-testid="flow-card"][data-flow="${slug}"]`).click();
      await explorer.waitForStep(0);
    }
    for (let trip = 0; trip < 5; trip++) {
      // Conditions change from trip to trip; every other trip adds an
      // edit (the clock moved on after the second step).
      if (trip > 0) {
        // The last MFA, moved to the next of its choices (conditions stay
        // when the flow changes, so the panel's value is read first).
        const choices = ['none', '2', '15'];
        const now = await page.getByTestId('conditions').getByTestId('cond-mfa').inputValue();
        await conditions.lastMfa(choices[(choices.indexOf(now) + 1) % choices.length]);
      }
      if (trip % 2) {
        await explorer.jump(1);
        await clock.wait(1);
        await explorer.waitForStep(1);
      }
      const total = await explorer.total();
      // Never a stale step: what the narration and the inspector show is
      // the shown step's, the same on every trip.
      const seen = async () => ({
        step: await explorer.current(),
        title: await page.getByTestId('narration-title').innerText(),
        tabs: (await explorer.artifactTabs().allInnerTexts()).join(' | '),
      });
      // To the last step and back to the first, by the keyboard.
      await page.keyboard.press('End');
      assert.equal(await explorer.waitForStep(total - 1, 120_000), 'done', `${slug} trip ${trip}: the last step`);
      const atEnd = await seen();
      await page.keyboard.press('Home');
      assert.equal(await explorer.waitForStep(0), 'done', `${slug} trip ${trip}: back at the first step`);
      const atStart = await seen();
      assert.equal(atEnd.step, total - 1);
      assert.equal(atStart.step, 0);
      reference[slug] ??= { atEnd, atStart };
      assert.deepEqual(atEnd, reference[slug].atEnd, `${slug} trip ${trip}: the last step as on the first trip`);
      assert.deepEqual(atStart, reference[slug].atStart, `${slug} trip ${trip}: the first step as on the first trip`);
    }
  }
  const last = await heap();
  console.log(`long session, after 15 round trips in ${((Date.now() - started) / 1000).toFixed(0)} s: ${show(last)}`);
  // Bounded: the worker keeps four worlds at most (a native test checks
  // the cap), so its memory levels off far below what keeping every run
  // would reach; WebAssembly memory never shrinks, so this is its peak.
  assert.ok(last.workerWasm < 256, show(last));
  assert.ok(last.pageJs < 256, show(last));
  assertNoProblems(problems);
  await context.close();
});
