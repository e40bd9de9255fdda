import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { launch, openPage, assertNoProblems, engineWorker, workerViolations, BASE_URL } from '../lib/harness.mjs';
import { CatalogPage } from '../pages/catalog.mjs';
import { ExplorerPage } from '../pages/explorer.mjs';
import { FLOW_SLUGS } from '../lib/registry.mjs';

// Messages (arrows) per phase in each flow, as the documentation's diagrams
// draw them and the core's scripts define them.
const FLOWS = {
  'aadj-managed': { R: 12, A: 10, B: 5, C: 3, S: 8 },
  'aadj-federated': { R: 16, A: 13, B: 5, C: 3, S: 8 },
  'hybrid-key-managed': { R: 13, A: 10, B: 5, C: 3, D: 5, S: 8 },
  'hybrid-key-federated': { R: 16, A: 13, B: 5, C: 3, D: 5, S: 8 },
  'hybrid-cloud-kerberos': { R: 13, A: 10, B: 5, C: 3, S: 11 },
  'hybrid-cert-async': { R: 16, A: 13, B: 5, C: 3, D: 7, E: 0, F: 3, G: 0, S: 11 },
  'hybrid-cert-sync': { R: 16, A: 13, B: 5, C: 3, D: 5, E: 0, F: 3, G: 0, S: 11 },
  'onprem-key': { R: 13, A: 10, B: 5, C: 3, S: 4 },
  'onprem-cert': { R: 13, A: 10, B: 5, C: 3, D: 4, E: 0, F: 3, G: 0, S: 4 },
};

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('every flow of the registry has its messages per phase here', () => {
  assert.deepEqual(Object.keys(FLOWS).sort(), [...FLOW_SLUGS].sort());
});

for (const [slug, messagesPerPhase] of Object.entries(FLOWS)) {
  test(`${slug}: every step runs in the page, each phase narrated, every check as expected`, { timeout: 240_000 }, async () => {
    const { page, problems, context } = await openPage(browser);
    const catalog = new CatalogPage(page);
    await catalog.goto(BASE_URL);
    await catalog.card(slug).getByTestId('open-flow').click();
    const explorer = new ExplorerPage(page);
    await explorer.root.waitFor();
    assert.equal(await explorer.flow(), slug);

    // The diagram's arrows per phase match the flow.
    for (const [phase, count] of Object.entries(messagesPerPhase)) {
      const arrows = await page.locator(`[data-testid="step"]`).evaluateAll(
        (els, p) =>
          els.filter((e) => {
            const band = [...document.querySelectorAll('[data-testid="band"]')].find((b) => {
              const r = b.getBoundingClientRect();
              const s = e.getBoundingClientRect();
              return s.top + s.height / 2 >= r.top && s.top + s.height / 2 <= r.bottom;
            });
            return band?.getAttribute('data-phase') === p && e.querySelector('.arrow');
          }).length,
        phase,
      );
      assert.equal(arrows, count, `${slug} phase ${phase} has ${count} messages`);
    }

    const total = await explorer.total();
    const seenPhases = new Set();
    for (let i = 0; i < total; i++) {
      if (i > 0) await explorer.forward();
      const status = await explorer.waitForStep(i);
      if (status === 'failed') {
        assert.fail(`${slug} step ${i + 1} failed: ${await explorer.halt().textContent({ timeout: 1000 }).catch(() => '')}`);
      }
      const phase = (await explorer.narrationPhase().innerText()).trim();
      if (!seenPhases.has(phase)) {
        seenPhases.add(phase);
        const text = (await explorer.narrationText().innerText()).trim();
        assert.ok(text.length > 60, `${slug} phase ${phase} is narrated`);
      }
      for (const check of await explorer.checkOutcomes()) {
        assert.notEqual(check.outcome, 'fail', `${slug} step ${i + 1}: ${check.title}: ${check.reason}`);
      }
    }
    assert.deepEqual([...seenPhases], Object.keys(messagesPerPhase));
    assert.equal((await explorer.position().innerText()).trim(), `Step ${total} of ${total}`);
    assertNoProblems(problems);
    await context.close();
  });
}

test('a deep link reproduces the run and lands on a middle step', { timeout: 120_000 }, async () => {
  const { page, problems, context } = await openPage(browser);
  const explorer = new ExplorerPage(page);
  // An old numeric link: step 24 of provisioning, after the 20 of the
  // device's registration and the Windows sign-in.
  await explorer.goto(`${BASE_URL}?flow=hybrid-cert-sync&step=24&seed=deep-link`);
  const status = await explorer.waitForStep(43);
  assert.equal(status, 'done');
  assert.equal(await explorer.current(), 43);
  const title = (await explorer.narrationTitle().innerText()).trim();
  assert.ok(title.length > 0);
  // Every earlier step ran too, and stepping back shows it without waiting.
  await explorer.back();
  assert.equal(await explorer.waitForStep(42), 'done');
  assert.match(page.url(), /step=registration\.return-key-id/);
  assertNoProblems(problems);
  await context.close();
});

test('on a 360 px phone the current step stays in view, under the actors\' names', { timeout: 120_000 }, async () => {
  const { page, problems, context } = await openPage(browser, { viewport: { width: 360, height: 780 }, colorScheme: 'dark' });
  const explorer = new ExplorerPage(page);
  await explorer.goto(`${BASE_URL}?flow=hybrid-cert-sync&step=enrollment.sign-request`);
  assert.equal(await explorer.waitForStep(43), 'done');
  // Step 45 is far down a flow of 16 lanes, which the phone shows compact.
  for (const index of [43, 44]) {
    if (index === 44) {
      await explorer.forward();
      assert.equal(await explorer.waitForStep(44), 'done');
    }
    const at = await explorer.placement(index);
    assert.ok(at.shapeCentreInside, `step ${index + 1}'s arrow is off to the side: ${JSON.stringify(at)}`);
    assert.ok(at.shapeRowInside, `step ${index + 1} is scrolled out of view: ${JSON.stringify(at)}`);
    assert.ok(at.scrolledDown && at.headsAtTop, `the actors' names scrolled away: ${JSON.stringify(at)}`);
    assert.ok(!at.pageScrollsSideways, 'the page itself scrolls sideways');
  }
  assertNoProblems(problems);
  await context.close();
});

test('on a 390 px phone no step of a flow makes the page scroll sideways, and compact mode shows each step\'s lanes whole', { timeout: 240_000 }, async () => {
  // Long URLs in notes and in modelled labels break instead of widening
  // the page (the on-premises discovery, the PRT's token endpoint).
  const { page, problems, context } = await openPage(browser, { viewport: { width: 390, height: 844 } });
  const explorer = new ExplorerPage(page);
  for (const slug of ['aadj-managed', 'onprem-key']) {
    await explorer.goto(`${BASE_URL}?flow=${slug}`);
    await explorer.waitForStep(0);
    const total = await explorer.total();
    for (let i = 0; i < total; i++) {
      if (i > 0) {
        await page.keyboard.press('ArrowRight');
        assert.equal(await explorer.waitForStep(i), 'done');
      }
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `${slug} step ${i + 1}: the page is ${width} px wide`);
      // Compact: the diagram fits, the step's lanes whole and named.
      const drawn = await explorer.lanes();
      const at = `${slug} step ${i + 1}`;
      assert.ok(drawn.compact, `${at}: not compact`);
      assert.ok(!drawn.scrollsSideways, `${at}: the diagram scrolls sideways`);
      const involved = drawn.lanes.filter((l) => l.involved);
      assert.ok(involved.length >= 1, `${at}: no lane is the step's`);
      for (const lane of involved) {
        assert.ok(lane.whole && lane.width >= 40, `${at}: ${lane.name} is not whole: ${JSON.stringify(lane)}`);
        assert.ok(lane.shown.length > 0 && lane.name.length >= lane.shown.length, `${at}: ${lane.name} is not named`);
      }
    }
  }
  assertNoProblems(problems);
  await context.close();
});

test('compact mode on a phone: every flow\'s current lanes in view, the others folded to strips that keep their names for hover and screen readers, and "All lanes" at a press', { timeout: 180_000 }, async () => {
  const { page, problems, context } = await openPage(browser, { viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
  const explorer = new ExplorerPage(page);
  for (const slug of FLOW_SLUGS) {
    await explorer.goto(`${BASE_URL}?flow=${slug}&step=registration.register-key`);
    const index = await explorer.current();
    assert.equal(await explorer.waitForStep(index), 'done');
    const drawn = await explorer.lanes();
    assert.ok(drawn.compact && !drawn.scrollsSideways, `${slug}: ${JSON.stringify(drawn)}`);
    const shown = drawn.lanes.filter((l) => l.shown.length > 0);
    const folded = drawn.lanes.filter((l) => l.shown.length === 0);
    assert.ok(folded.length > 0, `${slug}: no lane is folded`);
    assert.ok(shown.length <= 6, `${slug}: ${shown.length} lanes shown`);
    for (const lane of drawn.lanes.filter((l) => l.involved)) assert.ok(lane.whole && lane.shown, `${slug}: ${lane.name}`);
    for (const lane of folded) assert.ok(lane.width < 12 && lane.name.length > 0, `${slug}: ${JSON.stringify(lane)}`);
    // Every actor is still named to assistive technology.
    const label = await page.getByTestId('lane-heads').getAttribute('aria-label');
    for (const lane of drawn.lanes) assert.ok(label.includes(lane.name), `${slug}: ${lane.name} is not in "${label}"`);
  }
  // Every lane at a press: named, the diagram scrolling sideways; and back.
  const toggle = page.getByTestId('lanes-toggle');
  assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
  await toggle.click();
  let drawn = await explorer.lanes();
  assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
  assert.ok(!drawn.compact && drawn.scrollsSideways);
  assert.ok(drawn.lanes.every((l) => l.shown.length > 0));
  await page.keyboard.press('ArrowRight');
  drawn = await explorer.lanes();
  assert.ok(!drawn.compact, 'the choice holds from step to step');
  await toggle.click();
  drawn = await explorer.lanes();
  assert.ok(drawn.compact && !drawn.scrollsSideways);
  // Wide screens have no compact mode, and no button for it.
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.waitForFunction(() => !document.querySelector('[data-testid="swimlanes"]').classList.contains('compact'));
  assert.equal(await toggle.count(), 0);
  assertNoProblems(problems);
  await context.close();
});

test('a broken link shows a clear notice and the catalog', async () => {
  const { page, problems, context } = await openPage(browser);
  await page.goto(`${BASE_URL}?flow=not-a-flow&step=x`);
  await page.getByTestId('catalog').waitFor();
  const notice = await page.getByTestId('notice').first().innerText();
  assert.match(notice, /does not exist/);
  assertNoProblems(problems);
  await context.close();
});

test('one whole flow driven with the keyboard only', { timeout: 240_000 }, async () => {
  const { page, problems, context } = await openPage(browser);
  const explorer = new ExplorerPage(page);
  await explorer.goto(`${BASE_URL}?flow=onprem-key`);
  await explorer.waitForStep(0);
  const total = await explorer.total();
  for (let i = 1; i < total; i++) {
    await page.keyboard.press('ArrowRight');
    assert.equal(await explorer.waitForStep(i), 'done');
  }
  await page.keyboard.press('Home');
  assert.equal(await explorer.current(), 0);
  await page.keyboard.press('c');
  const firstC = await explorer.current();
  assert.equal((await explorer.narrationPhase().innerText()).trim(), 'C');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await explorer.current(), firstC - 1);
  await page.keyboard.press('End');
  assert.equal(await explorer.current(), total - 1);
  await page.keyboard.press('?');
  await page.getByTestId('key-help').waitFor({ state: 'visible' });
  await page.keyboard.press('Escape');
  await page.getByTestId('key-help').waitFor({ state: 'hidden' });
  // Space plays from the start again and moves on by itself.
  await page.keyboard.press(' ');
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-testid="step"][data-state="current"]');
    return el && Number(el.getAttribute('data-step')) >= 1;
  }, null, { timeout: 20_000 });
  await page.keyboard.press(' ');
  assertNoProblems(problems);
  await context.close();
});

test('device registration comes first, and folds away to its heading', { timeout: 120_000 }, async () => {
  const { page, problems, context } = await openPage(browser);
  const explorer = new ExplorerPage(page);
  // A link to provisioning's first step runs the join, and the Windows
  // sign-in with the password that follows it, before it.
  await explorer.goto(`${BASE_URL}?flow=aadj-managed&step=tokens.start-provisioning`);
  assert.equal(await explorer.waitForStep(15), 'done');
  assert.equal((await explorer.narrationPhase().innerText()).trim(), 'A');
  const joinSteps = page.locator('[data-testid="step"][data-step-id^="device-registration."]');
  assert.equal(await joinSteps.count(), 9);
  for (let i = 0; i < 9; i++) {
    assert.equal(await joinSteps.nth(i).getAttribute('data-status'), 'done');
  }
  const band = page.locator('[data-testid="band"][data-phase="R"]');
  assert.match(await band.textContent(), /Phase R · Device registration and Windows sign-in/);
  const signInSteps = page.locator('[data-testid="step"][data-step-id^="windows-sign-in."]');
  assert.equal(await signInSteps.count(), 6);
  const bodyHeight = async () => (await page.locator('svg.lane-body').boundingBox()).height;
  const open = await bodyHeight();
  const provisioningTop = async () => (await page.locator('[data-testid="band"][data-phase="A"]').boundingBox()).y;
  const aTop = await provisioningTop();

  // Folded: its steps are gone from the diagram and what follows moves up.
  const fold = page.getByTestId('fold-join');
  assert.equal(await fold.getAttribute('aria-expanded'), 'true');
  await fold.click();
  assert.equal(await fold.getAttribute('aria-expanded'), 'false');
  assert.equal(await joinSteps.first().isVisible(), false);
  assert.ok((await bodyHeight()) < open - 300, 'the diagram got shorter');
  assert.ok((await provisioningTop()) < aTop - 300, 'phase A moved up');

  // Going back into the join opens it again; leaving it folds it again.
  await explorer.phaseButton('R').click();
  assert.equal(await explorer.waitForStep(0), 'done');
  assert.equal(await joinSteps.first().isVisible(), true);
  await page.keyboard.press('a');
  assert.equal(await explorer.waitForStep(15), 'done');
  assert.equal(await joinSteps.first().isVisible(), false);
  await fold.click();
  assert.equal(await joinSteps.first().isVisible(), true);
  assertNoProblems(problems);
  await context.close();
});

test('the device state panel reports what dsregcmd would, and marks what a step changed', { timeout: 120_000 }, async () => {
  const { page, problems, context } = await openPage(browser);
  const explorer = new ExplorerPage(page);
  await explorer.goto(`${BASE_URL}?flow=aadj-managed&step=device-registration.return-device-certificate`);
  assert.equal(await explorer.waitForStep(7), 'done');
  const panel = page.getByTestId('device-state');
  const entry = (name) => panel.locator(`[data-testid="report-entry"][data-name="${name}"]`);
  const value = async (name) => (await entry(name).getByTestId('report-value').textContent()).trim();
  if ((await panel.getAttribute('open')) === null) await page.getByTestId('device-state-summary').click();
  assert.equal(await value('AzureAdJoined'), 'NO');
  assert.equal(await value('PreReqResult'), 'WillNotProvision');
  assert.equal(await entry('DeviceId').count(), 0);

  // The device installs its certificate: joined, and provisioning may start.
  await explorer.forward();
  assert.equal(await explorer.waitForStep(8), 'done');
  assert.notEqual(await panel.getAttribute('open'), null, 'the panel opens when a value changed');
  assert.equal(await value('AzureAdJoined'), 'YES');
  assert.equal(await entry('AzureAdJoined').getAttribute('data-new'), 'true');
  assert.equal(await value('PreReqResult'), 'WillProvision');
  assert.match(await value('DeviceId'), /^[0-9a-f]{8}-[0-9a-f]{4}-/);
  assert.match(await value('DeviceCertificateValidity'), /^\[ 2026-11-22 .* -- 2036-11-22 .* UTC \]$/);
  assert.equal(await entry('TenantName').getAttribute('data-new'), 'true');
  assertNoProblems(problems);
  await context.close();
});

test('on premises, the registration response names the domain controller that wrote the key, signed by the Enterprise DRS', { timeout: 120_000 }, async () => {
  const { page, problems, context } = await openPage(browser);
  const explorer = new ExplorerPage(page);
  await explorer.goto(`${BASE_URL}?flow=onprem-key&step=registration.return-key-id`);
  assert.equal(await explorer.waitForStep(35), 'done');
  const check = await explorer.check('pctx names the domain controller that wrote the key');
  assert.ok(check, 'the app reads pctx');
  assert.equal(check.outcome, 'pass', check.reason);
  const tabs = await explorer.artifactTabs().allInnerTexts();
  assert.ok(tabs.some((t) => /pctx/.test(t)), tabs.join(' | '));
  assertNoProblems(problems);
  await context.close();
});

test('once opened, the explorer works offline: the catalog and a whole flow, engine included; its manifest makes it installable', { timeout: 240_000 }, async () => {
  const { page, problems, context } = await openPage(browser);
  const explorer = new ExplorerPage(page);
  await explorer.goto(`${BASE_URL}?flow=onprem-key`);
  await explorer.waitForStep(0);
  // The service worker has kept this release and controls the page.
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
  const kept = await page.evaluate(async () => {
    const names = await caches.keys();
    const cache = await caches.open(names.find((n) => n.startsWith('whfb-explorer-')));
    return (await cache.keys()).map((r) => new URL(r.url).pathname.split('/').pop());
  });
  for (const file of ['whfb-engine.js', 'whfb-worker.js', 'whfb-worker_bg.wasm', 'manifest.webmanifest']) {
    assert.ok(kept.includes(file), `${file} is kept: ${kept.join(', ')}`);
  }
  const manifest = await page.evaluate(async () => (await fetch(document.querySelector('link[rel="manifest"]').href)).json());
  assert.equal(manifest.display, 'standalone');
  assert.equal(manifest.start_url, './');
  assert.ok(manifest.icons.length > 0 && manifest.name.length > 0);

  // The network goes away; the page opens again and runs the whole flow.
  await context.setOffline(true);
  await page.reload();
  assert.equal(await explorer.waitForStep(0), 'done');
  const total = await explorer.total();
  await page.keyboard.press('End');
  assert.equal(await explorer.waitForStep(total - 1, 120_000), 'done');
  // And the catalog, at the site's address.
  await page.goto(BASE_URL);
  await page.getByTestId('flow-card').first().waitFor();
  await context.setOffline(false);
  assertNoProblems(problems);
  await context.close();
});

test('the page defends itself: its policy refuses another origin, in the page and in the engine\'s worker, and an injected script', { timeout: 120_000 }, async () => {
  // Another origin on this machine, which answers anyone who asks.
  let asked = 0;
  const other = createServer((req, res) => {
    asked += 1;
    res.writeHead(200, { 'access-control-allow-origin': '*', 'content-type': 'text/javascript' });
    res.end('self.__fromElsewhere = true;');
  });
  await new Promise((resolve) => other.listen(0, '127.0.0.1', resolve));
  const elsewhere = `http://127.0.0.1:${other.address().port}/`;
  try {
    assert.equal(await (await fetch(elsewhere)).text(), 'self.__fromElsewhere = true;', 'it answers');
    asked = 0;
    const { page, problems, context } = await openPage(browser);
    const explorer = new ExplorerPage(page);
    await explorer.goto(`${BASE_URL}?flow=aadj-managed`);
    await explorer.waitForStep(0);
    const policy = await page.evaluate(() => document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.content ?? '');
    assert.match(policy, /connect-src 'self'/);
    assert.match(policy, /script-src 'self' 'wasm-unsafe-eval' 'sha256-[A-Za-z0-9+/]{43}='/);

    // The page: a fetch, a script element from there, and an inline script.
    const inPage = await page.evaluate(async (url) => {
      const refused = [];
      document.addEventListener('securitypolicyviolation', (e) => refused.push(e.effectiveDirective));
      const fetched = await fetch(url).then(() => 'fetched', (e) => `refused (${e.name})`);
      const loaded = await new Promise((resolve) => {
        const s = document.createElement('script');
        s.src = `${url}x.js`;
        s.onload = () => resolve('loaded');
        s.onerror = () => resolve('refused');
        document.head.append(s);
      });
      const inline = document.createElement('script');
      inline.textContent = 'window.__injected = true;';
      document.head.append(inline);
      let evaluated = 'ran';
      try {
        eval('1');
      } catch (e) {
        evaluated = `refused (${e.name})`;
      }
      await new Promise((r) => setTimeout(r, 200));
      return { fetched, loaded, injected: window.__injected === true, evaluated, refused };
    }, elsewhere);
    assert.equal(inPage.fetched, 'refused (TypeError)');
    assert.equal(inPage.loaded, 'refused');
    assert.equal(inPage.injected, false, 'an injected inline script does not run');
    assert.equal(inPage.evaluated, 'refused (EvalError)');
    for (const directive of ['connect-src', 'script-src-elem']) {
      assert.ok(inPage.refused.includes(directive), `${directive} refused: ${inPage.refused.join(', ')}`);
    }

    // The engine's worker, started from a blob: URL, is held to the same policy.
    const worker = await engineWorker(page);
    assert.ok(worker, 'the engine\'s worker runs');
    assert.match(worker.url(), /^blob:/);
    const inWorker = await worker.evaluate(async (url) => {
      const fetched = await fetch(url).then(() => 'fetched', (e) => `refused (${e.name})`);
      let imported = 'imported';
      try {
        importScripts(`${url}x.js`);
      } catch (e) {
        imported = `refused (${e.name})`;
      }
      return { fetched, imported, ran: self.__fromElsewhere === true };
    }, elsewhere);
    assert.equal(inWorker.fetched, 'refused (TypeError)');
    assert.match(inWorker.imported, /^refused/);
    assert.equal(inWorker.ran, false);
    // The run goes on: the engine still answers.
    await page.keyboard.press('End');
    assert.equal(await explorer.waitForStep((await explorer.total()) - 1, 120_000), 'done');

    assert.equal(asked, 0, 'nothing reached the other origin');
    // The harness saw the refusals (that is how every other test fails on
    // one), and they are what this test tried, and nothing else.
    const inWorkers = await workerViolations(page);
    assert.ok(inWorkers.some((v) => v.includes(`connect-src refused ${elsewhere}`)), inWorkers.join('\n'));
    assert.ok(problems.some((p) => p.includes('policy violation: connect-src')), problems.join('\n'));
    const others = [...problems, ...inWorkers].filter((p) => !p.includes(elsewhere) && !/inline|eval/.test(p));
    assertNoProblems(others);
    await context.close();
  } finally {
    other.close();
  }
});

test('print: every step with its narration, checks and artifacts, the whole diagram, and no controls, on white even from the dark theme', { timeout: 180_000 }, async () => {
  const { page, problems, context } = await openPage(browser, { colorScheme: 'dark' });
  // The browser's print dialog is not a page's to test: count the calls.
  await page.addInitScript(() => {
    window.__printed = 0;
    window.print = () => {
      window.__printed += 1;
    };
  });
  const explorer = new ExplorerPage(page);
  await explorer.goto(`${BASE_URL}?flow=hybrid-key-managed`);
  await explorer.waitForStep(0);
  const total = await explorer.total();
  await page.getByTestId('print').click();
  await page.waitForFunction(() => window.__printed === 1, null, { timeout: 150_000 });
  await page.emulateMedia({ media: 'print' });
  const walkthrough = page.getByTestId('print-walkthrough');
  assert.ok(await walkthrough.isVisible());
  assert.equal(await walkthrough.getByTestId('print-step').count(), total);
  const text = await walkthrough.innerText();
  assert.ok(!/Not run\./.test(text), 'every step ran before printing');
  assert.match(text, /✓ Certificate request signature/);
  assert.match(text, /Artifacts: /);
  for (const id of ['controls', 'topbar', 'phase-stepper', 'inspector', 'conditions', 'clock', 'narration']) {
    const el = page.getByTestId(id);
    if (await el.count()) assert.equal(await el.isVisible(), false, `${id} is hidden in print`);
  }
  const surface = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--surface').trim());
  assert.equal(surface, '#ffffff', 'the light palette on paper');
  const dimmed = await page.evaluate(() => [...document.querySelectorAll('.step.future')].filter((s) => getComputedStyle(s).opacity !== '1').length);
  assert.equal(dimmed, 0, 'no step of the diagram is dimmed on paper');
  // The whole diagram fits the printed width: no lane is cut off.
  const fit = await page.evaluate(() => {
    const svg = document.querySelector('.lane-body');
    return { svg: svg.getBoundingClientRect().width, page: document.documentElement.clientWidth, scroll: document.documentElement.scrollWidth };
  });
  assert.ok(fit.svg <= fit.page + 1 && fit.scroll <= fit.page + 1, JSON.stringify(fit));
  await page.emulateMedia({ media: 'screen' });
  assertNoProblems(problems);
  await context.close();
});

test('presenter mode: the phases, the diagram and the narration in large type; a clicker\'s Page Down and Page Up step; P or the button leaves it', { timeout: 120_000 }, async () => {
  const { page, problems, context } = await openPage(browser, { viewport: { width: 1440, height: 900 } });
  const explorer = new ExplorerPage(page);
  await explorer.goto(`${BASE_URL}?flow=aadj-managed&step=tokens.start-provisioning`);
  const at = await explorer.current();
  await explorer.waitForStep(at);
  const size = () => page.getByTestId('narration-text').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  const before = await size();
  await page.getByTestId('present').click();
  await page.locator('[data-testid="explorer"][data-presenting="true"]').waitFor();
  for (const id of ['controls', 'topbar', 'inspector', 'conditions', 'clock']) {
    const el = page.getByTestId(id);
    if (await el.count()) assert.equal(await el.isVisible(), false, `${id} is hidden while presenting`);
  }
  for (const id of ['phase-stepper', 'narration', 'lane-heads']) {
    assert.ok(await page.getByTestId(id).isVisible(), `${id} shows while presenting`);
  }
  assert.ok((await size()) >= before * 1.25, `large type: ${before} px → ${await size()} px`);
  await page.keyboard.press('PageDown');
  assert.equal(await explorer.waitForStep(at + 1), 'done');
  await page.keyboard.press('PageDown');
  assert.equal(await explorer.waitForStep(at + 2), 'done');
  await page.keyboard.press('PageUp');
  assert.equal(await explorer.waitForStep(at + 1), 'done');
  await page.keyboard.press('p');
  await page.locator('[data-testid="explorer"][data-presenting="false"]').waitFor();
  assert.ok(await page.getByTestId('controls').isVisible());
  await page.keyboard.press('P');
  await page.getByTestId('present-exit').click();
  await page.locator('[data-testid="explorer"][data-presenting="false"]').waitFor();
  assertNoProblems(problems);
  await context.close();
});

test('the embed snippet: one click copies an iframe that opens this step, embedded', { timeout: 120_000 }, async () => {
  const { page, problems, context } = await openPage(browser);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(BASE_URL).origin });
  const explorer = new ExplorerPage(page);
  await explorer.goto(`${BASE_URL}?flow=onprem-key&step=registration.register-key`);
  const at = await explorer.current();
  await explorer.waitForStep(at);
  await page.getByTestId('copy-embed').click();
  await page.getByTestId('copy-embed').filter({ hasText: 'Copied' }).waitFor();
  const snippet = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(snippet, /^<iframe src="[^"]+" title="[^"]+, step \d+" width="960" height="640" loading="lazy"><\/iframe>$/);
  const src = snippet.match(/src="([^"]+)"/)[1].replaceAll('&amp;', '&');
  assert.match(src, /embed=1/);
  // A page that embeds it, as a wiki would.
  const host = await context.newPage();
  await host.setContent(`<!DOCTYPE html><title>wiki</title>${snippet}`);
  const frame = host.frameLocator('iframe');
  await frame.getByTestId('explorer').waitFor();
  await frame.locator(`[data-testid="step"][data-step="${at}"][data-state="current"]`).waitFor({ timeout: 60_000 });
  assert.equal(await frame.getByTestId('topbar').isVisible(), false, 'embedded: no top bar');
  assertNoProblems(problems);
  await context.close();
});

test('export: every flow\'s diagram as SVG parses and holds every step\'s label; the PNG is the same drawing; up to a step ends there', { timeout: 300_000 }, async () => {
  const { page, problems, context } = await openPage(browser, { colorScheme: 'dark' });
  const explorer = new ExplorerPage(page);
  const exported = async (choice) => {
    const menu = page.getByTestId('export');
    if ((await menu.getAttribute('open')) === null) await menu.locator('summary').click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(choice).click()]);
    await menu.locator('summary').click();
    return { name: download.suggestedFilename(), bytes: await readFile(await download.path()) };
  };
  // Parsed in the page; its <style> is read here, since a parsed SVG
  // document's inline style would meet the page's own policy.
  const parse = async (svg) => ({
    style: /<style>([^<]*)<\/style>/.exec(svg)?.[1] ?? '',
    ...(await parseInPage(svg.replace(/<style>[^<]*<\/style>/, ''))),
  });
  const parseInPage = (svg) => page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    const error = doc.querySelector('parsererror');
    if (error) return { error: error.textContent };
    const root = doc.documentElement;
    return {
      root: root.localName,
      ns: root.namespaceURI,
      width: Number(root.getAttribute('width')),
      texts: [...doc.querySelectorAll('text')].map((t) => t.textContent),
    };
  }, svg);
  for (const slug of FLOW_SLUGS) {
    await explorer.goto(`${BASE_URL}?flow=${slug}`);
    assert.equal(await explorer.waitForStep(0), 'done');
    const { name, bytes } = await exported('export-svg-all');
    assert.equal(name, `${slug}-dark.svg`);
    const svg = await parse(bytes.toString('utf8'));
    assert.equal(svg.error, undefined, `${slug}: ${svg.error}`);
    assert.equal(svg.root, 'svg');
    assert.equal(svg.ns, 'http://www.w3.org/2000/svg');
    // Self-contained: its colours inside, the dark palette as the page shows.
    assert.match(svg.style, /#161d25/);
    const labels = await page.locator('[data-testid="step"] .step-label').allTextContents();
    assert.ok(labels.length > 20, `${slug}: ${labels.length} steps`);
    for (const label of labels) assert.ok(svg.texts.includes(label), `${slug}: "${label}" is not in the SVG`);
  }
  // Up to a step: the diagram ends there; the PNG draws it at twice the size.
  await explorer.goto(`${BASE_URL}?flow=onprem-key&step=registration.register-key`);
  const at = Number(await page.locator('[data-testid="step"][data-step-id="registration.register-key"]').getAttribute('data-step'));
  assert.equal(await explorer.waitForStep(at), 'done');
  const part = await exported('export-svg-step');
  assert.equal(part.name, `onprem-key-to-step-${at + 1}-dark.svg`);
  const partial = await parse(part.bytes.toString('utf8'));
  assert.ok(partial.texts.some((t) => t.startsWith(`${at + 1}. `)));
  assert.ok(!partial.texts.some((t) => t.startsWith(`${at + 2}. `)), 'nothing after the step');
  const png = await exported('export-png-step');
  assert.equal(png.name, `onprem-key-to-step-${at + 1}-dark.png`);
  assert.deepEqual([...png.bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
  assert.equal(png.bytes.readUInt32BE(16), partial.width * 2, 'twice the SVG\'s width');
  assertNoProblems(problems);
  await context.close();
});

test('the whole flow in view: at 1440 × 900 and 1280 × 800 every lane of every flow fits without sideways scrolling, and the step\'s details sit beside the diagram', { timeout: 300_000 }, async () => {
  const measure = (page) => page.evaluate(() => {
    const lanes = document.querySelector('[data-testid="swimlanes"]');
    const stage = document.querySelector('.stage').getBoundingClientRect();
    const narration = document.querySelector('[data-testid="narration"]').getBoundingClientRect();
    const heads = [...document.querySelectorAll('[data-testid="lane"]')].map((g) => ({
      shown: g.querySelector('.lane-name').textContent,
      title: g.querySelector('title').textContent,
      right: g.getBoundingClientRect().right,
    }));
    return {
      scrollWidth: lanes.scrollWidth,
      clientWidth: lanes.clientWidth,
      right: lanes.getBoundingClientRect().right,
      stage: { right: stage.right, bottom: stage.bottom },
      narration: { left: narration.left, top: narration.top },
      heads,
      pageScrolls: document.documentElement.scrollWidth > window.innerWidth,
    };
  });
  for (const viewport of [{ width: 1440, height: 900 }, { width: 1280, height: 800 }]) {
    const { page, problems, context } = await openPage(browser, { viewport });
    const explorer = new ExplorerPage(page);
    for (const slug of FLOW_SLUGS) {
      await explorer.goto(`${BASE_URL}?flow=${slug}`);
      assert.equal(await explorer.waitForStep(0), 'done');
      await page.waitForTimeout(100);
      const m = await measure(page);
      const at = `${slug} at ${viewport.width} px`;
      assert.ok(m.scrollWidth <= m.clientWidth, `${at}: the diagram scrolls sideways (${m.scrollWidth} > ${m.clientWidth})`);
      assert.ok(!m.pageScrolls, `${at}: the page scrolls sideways`);
      for (const head of m.heads) {
        assert.ok(head.right <= m.right + 1, `${at}: the lane ${head.title} is cut off`);
        assert.ok(head.title.length >= head.shown.length, `${at}: the full name is on hover`);
      }
      // Beside the diagram, and in view at once.
      assert.ok(m.narration.left >= m.stage.right, `${at}: the narration is not beside the diagram`);
      assert.ok(m.narration.top < viewport.height / 2, `${at}: the narration is out of view`);
    }
    assertNoProblems(problems);
    await context.close();
  }
  // Narrower than 1280 px, the details stack under the diagram.
  const { page, problems, context } = await openPage(browser, { viewport: { width: 1100, height: 800 } });
  const explorer = new ExplorerPage(page);
  await explorer.goto(`${BASE_URL}?flow=onprem-key`);
  assert.equal(await explorer.waitForStep(0), 'done');
  const m = await measure(page);
  assert.ok(m.narration.top >= m.stage.bottom, 'stacked under the diagram');
  assertNoProblems(problems);
  await context.close();
});
