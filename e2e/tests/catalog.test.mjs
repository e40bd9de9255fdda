import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, assertNoProblems, BASE_URL, ROOT_URL } from '../lib/harness.mjs';
import { CatalogPage } from '../pages/catalog.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('the catalog lists the seven provisioning flows, grouped by deployment', async () => {
  const { page, problems, context } = await openPage(browser);
  const catalog = new CatalogPage(page);
  await catalog.goto(BASE_URL);

  const flows = await catalog.flows();
  assert.equal(flows.length, 7);
  assert.deepEqual(
    await catalog.groups().evaluateAll((els) => els.map((e) => e.getAttribute('data-deployment'))),
    ['Cloud', 'Hybrid', 'On-premises'],
  );
  const bySlug = Object.fromEntries(flows.map((f) => [f.slug, f]));
  assert.deepEqual(Object.keys(bySlug).sort(), [
    'aadj-federated',
    'aadj-managed',
    'hybrid-cert-async',
    'hybrid-cert-sync',
    'hybrid-key-managed',
    'onprem-cert',
    'onprem-key',
  ]);
  assert.equal(bySlug['aadj-managed'].deployment, 'Cloud');
  assert.equal(bySlug['aadj-managed'].phases, 'Phases A–C');
  assert.equal(bySlug['hybrid-key-managed'].phases, 'Phases A–D');
  assert.equal(bySlug['hybrid-cert-sync'].phases, 'Phases A–G');
  assert.equal(bySlug['hybrid-cert-sync'].trust, 'Certificate trust');
  assert.equal(bySlug['hybrid-cert-sync'].signIn, 'Federated');
  assert.equal(bySlug['onprem-key'].deployment, 'On-premises');
  for (const flow of flows) {
    assert.ok(flow.summary.length > 40, `${flow.slug} has a one-line summary`);
  }
  assertNoProblems(problems);
  await context.close();
});

test('the release build also loads from the site root', async () => {
  const { page, problems, context } = await openPage(browser);
  const catalog = new CatalogPage(page);
  await catalog.goto(ROOT_URL);
  assert.equal(await catalog.cards().count(), 7);
  assertNoProblems(problems);
  await context.close();
});
