// An accessibility audit with axe-core (a maintained checker, pinned in
// package.json) on the catalog and on a step of every flow, in the light
// and the dark theme: no serious or critical violation. axe is evaluated
// in the page through the test driver, not added as a script element, so
// the page's Content-Security-Policy stays in force.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { launch, openPage, assertNoProblems, BASE_URL } from '../lib/harness.mjs';
import { CatalogPage } from '../pages/catalog.mjs';
import { ExplorerPage } from '../pages/explorer.mjs';
import { FLOW_SLUGS } from '../lib/registry.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** axe's serious and critical violations on the page as it is now. */
async function audit(page) {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')}: ${n.failureSummary.split('\n').slice(0, 2).join(' ')}`),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** WCAG 2 contrast ratio of two CSS colours (rgb() or #rrggbb). */
function contrast(a, b) {
  const channels = (c) => {
    const hex = c.match(/^#([0-9a-f]{6})$/i);
    const parts = hex ? [0, 2, 4].map((i) => parseInt(hex[1].slice(i, i + 2), 16)) : c.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
    return parts.map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
  };
  const lum = (c) => {
    const [r, g, bl] = channels(c);
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

const show = (vs) => vs.map((v) => `${v.impact} ${v.id} (${v.help}):\n    ${v.nodes.join('\n    ')}`).join('\n');

for (const colorScheme of ['light', 'dark']) {
  test(`accessibility (${colorScheme}): the catalog, the guide and the inspect panel`, { timeout: 60_000 }, async () => {
    const { page, problems, context } = await openPage(browser, { colorScheme });
    const catalog = new CatalogPage(page);
    await catalog.goto(BASE_URL);
    const found = await audit(page);
    assert.equal(found.length, 0, show(found));
    assertNoProblems(problems);
    await context.close();
  });

  test(`accessibility (${colorScheme}): a comparison of two runs, its table and its error, and a device's diagnosis`, { timeout: 180_000 }, async () => {
    const { page, problems, context } = await openPage(browser, { colorScheme });
    await page.goto(`${BASE_URL}?compare=aadj-managed&with=aadj-federated`);
    await page.getByTestId('compare-summary').waitFor({ timeout: 120_000 });
    let found = await audit(page);
    assert.equal(found.length, 0, show(found));
    await page.getByTestId('compare-b').fill('nope');
    await page.getByTestId('compare-run').click();
    await page.getByTestId('compare-error').waitFor();
    found = await audit(page);
    assert.equal(found.length, 0, show(found));
    // A device's diagnosis, on the same page.
    const sample = readFileSync(new URL('../fixtures/dsregcmd/hybrid-joined-remote-session.txt', import.meta.url), 'utf8');
    await page.getByTestId('diagnose-input').fill(sample);
    await page.getByTestId('diagnose-run').click();
    await page.getByTestId('diagnose-verdict').waitFor({ timeout: 120_000 });
    found = await audit(page);
    assert.equal(found.length, 0, show(found));
    assertNoProblems(problems);
    await context.close();
  });

  test(`accessibility (${colorScheme}): a step of every flow, its diagram, narration, checks and artifacts`, { timeout: 600_000 }, async () => {
    const { page, problems, context } = await openPage(browser, { colorScheme });
    const explorer = new ExplorerPage(page);
    const all = [];
    for (const slug of FLOW_SLUGS) {
      await explorer.goto(`${BASE_URL}?flow=${slug}&step=registration.register-key`);
      await page.getByTestId('event-summary').waitFor({ timeout: 120_000 });
      await page.getByTestId('inspector').waitFor();
      all.push(...(await audit(page)).map((v) => ({ ...v, id: `${slug}: ${v.id}` })));
    }
    assert.equal(all.length, 0, show(all));
    assertNoProblems(problems);
    await context.close();
  });
}

for (const colorScheme of ['light', 'dark']) {
  test(`contrast (${colorScheme}): steps not yet reached and the hex view's highlights read at WCAG AA`, { timeout: 120_000 }, async () => {
    const { page, problems, context } = await openPage(browser, { colorScheme });
    const explorer = new ExplorerPage(page);
    await explorer.goto(`${BASE_URL}?flow=aadj-managed&step=registration.register-key`);
    await page.getByTestId('event-summary').waitFor({ timeout: 120_000 });
    const colours = await page.evaluate(() => {
      const root = getComputedStyle(document.documentElement);
      const label = document.querySelector('.step.future .step-label');
      return {
        future: getComputedStyle(label).fill,
        surface: root.getPropertyValue('--surface').trim(),
        surface2: root.getPropertyValue('--surface-2').trim(),
      };
    });
    for (const bg of [colours.surface, colours.surface2]) {
      const ratio = contrast(colours.future, bg);
      assert.ok(ratio >= 4.5, `a future step's label ${colours.future} on ${bg}: ${ratio.toFixed(2)}:1`);
    }
    // The hex view: a hovered field's bytes.
    const byte = page.locator('[data-testid="hex"] .byte').nth(40);
    await byte.scrollIntoViewIfNeeded();
    await byte.hover();
    await page.locator('[data-testid="hex"] .byte.hl').first().waitFor();
    const hl = await page.evaluate(() => {
      const b = document.querySelector('[data-testid="hex"] .byte.hl');
      const s = getComputedStyle(b);
      return { fg: s.color, bg: s.backgroundColor };
    });
    const ratio = contrast(hl.fg, hl.bg);
    assert.ok(ratio >= 4.5, `highlighted byte ${hl.fg} on ${hl.bg}: ${ratio.toFixed(2)}:1`);
    assertNoProblems(problems);
    await context.close();
  });
}
