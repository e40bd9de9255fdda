// The performance benchmark behind `cargo xtask bench`: what a person waits
// for in the page, per flow, on the release build in headless Chromium.
// It prints figures and judges nothing (the end-to-end tests keep only the
// limits that mean "broken"). Output: one JSON line per flow, prefixed
// `BENCH `, for xtask to tabulate next to the native timings.
//
//   E2E_BASE_URL=http://127.0.0.1:8080/ [BENCH_FLOWS=a,b] node bench/bench.mjs [runs]

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { launch, openPage, BASE_URL } from '../lib/harness.mjs';
import { ExplorerPage } from '../pages/explorer.mjs';
import { FLOW_SLUGS } from '../lib/registry.mjs';

const runs = Number(process.argv[2] ?? 3);
// BENCH_FLOWS=a,b limits the run to those flows.
const only = (process.env.BENCH_FLOWS ?? '').split(',').filter(Boolean);
const slugs = only.length ? FLOW_SLUGS.filter((s) => only.includes(s)) : FLOW_SLUGS;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Records every main-thread task over 50 ms from the first byte on. */
async function watchLongTasks(page) {
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
}

/**
 * Runs in the page: presses → and waits (frame by frame) until the next
 * step is current and has run, to the last step; milliseconds in all.
 */
async function steppingInThePage(total) {
  const shown = (i) => {
    const el = document.querySelector(`[data-testid="step"][data-step="${i}"]`);
    return el && el.dataset.state === 'current' && el.dataset.status !== 'pending';
  };
  const t0 = performance.now();
  for (let i = 1; i < total; i++) {
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
    const asked = performance.now();
    while (!shown(i)) {
      if (performance.now() - asked > 120_000) throw new Error(`step ${i} never showed`);
      await new Promise((r) => requestAnimationFrame(r));
    }
  }
  return Math.round(performance.now() - t0);
}

/** A fresh page (fresh worker, no keys made yet) opened at `query`. */
async function fresh(browser, query) {
  const opened = await openPage(browser);
  await watchLongTasks(opened.page);
  const explorer = new ExplorerPage(opened.page);
  const t0 = Date.now();
  await explorer.goto(`${BASE_URL}${query}`);
  return { ...opened, explorer, t0 };
}

// Every file of the build (what the page downloads), gzipped at level 9.
const dist = process.env.BENCH_DIST;
if (dist) {
  for (const name of readdirSync(dist).sort()) {
    const path = join(dist, name);
    if (!statSync(path).isFile()) continue;
    const bytes = readFileSync(path);
    console.log(`BENCH ${JSON.stringify({ file: name, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length })}`);
  }
}

const browser = await launch();
try {
  for (const slug of slugs) {
    const deepLink = [];
    const stepping = [];
    const firstStep = [];
    let longest = 0;
    let total = 0;
    let lastId = '';
    for (let r = 0; r < runs; r++) {
      // 1. The first step of the flow, from a fresh load.
      {
        const { context, explorer, t0, page } = await fresh(browser, `?flow=${slug}`);
        await explorer.waitForStep(0, 120_000);
        firstStep.push(Date.now() - t0);
        total = await explorer.total();
        lastId = await page.locator('[data-testid="step"]').last().getAttribute('data-step-id');
        // 2. Stepping at top speed, first to last: the next step asked for
        //    (the → key) as soon as the page shows the last one done, timed
        //    in the page, so that no round trip to the test driver counts.
        stepping.push(await page.evaluate(steppingInThePage, total));
        await context.close();
      }
      // 3. A deep link to the last step, from a fresh load.
      {
        const { context, explorer, t0, page } = await fresh(browser, `?flow=${slug}&step=${lastId}`);
        await explorer.waitForStep(total - 1, 120_000);
        deepLink.push(Date.now() - t0);
        const tasks = await page.evaluate(() => window.__longTasks);
        longest = Math.max(longest, ...tasks, 0);
        await context.close();
      }
    }
    console.log(
      `BENCH ${JSON.stringify({
        flow: slug,
        steps: total,
        deep_link_ms: median(deepLink),
        stepping_ms: median(stepping),
        first_step_ms: median(firstStep),
        longest_task_ms: Math.round(longest),
      })}`,
    );
  }
} finally {
  await browser.close();
}
