import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, assertNoProblems, BASE_URL, ROOT_URL } from '../lib/harness.mjs';
import { CatalogPage } from '../pages/catalog.mjs';
import { FLOW_SLUGS } from '../lib/registry.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('the catalog lists every flow of the registry, grouped by deployment', async () => {
  const { page, problems, context } = await openPage(browser);
  const catalog = new CatalogPage(page);
  await catalog.goto(BASE_URL);

  const flows = await catalog.flows();
  assert.deepEqual(flows.map((f) => f.slug).sort(), [...FLOW_SLUGS].sort());
  assert.deepEqual(
    await catalog.groups().evaluateAll((els) => els.map((e) => e.getAttribute('data-deployment'))),
    ['Cloud', 'Hybrid', 'On-premises'],
  );
  const bySlug = Object.fromEntries(flows.map((f) => [f.slug, f]));
  for (const slug of ['aadj-managed', 'aadj-federated', 'hybrid-key-managed', 'hybrid-key-federated', 'hybrid-cloud-kerberos', 'hybrid-cert-async', 'hybrid-cert-sync', 'onprem-key', 'onprem-cert']) {
    assert.ok(bySlug[slug], `the catalog shows ${slug}`);
  }
  assert.equal(bySlug['hybrid-key-federated'].phases, 'Phases R, A–D, S');
  assert.equal(bySlug['hybrid-key-federated'].signIn, 'Federated');
  assert.equal(bySlug['hybrid-key-federated'].trust, 'Key trust');
  assert.equal(bySlug['aadj-managed'].deployment, 'Cloud');
  assert.equal(bySlug['aadj-managed'].phases, 'Phases R, A–C, S');
  assert.equal(bySlug['hybrid-key-managed'].phases, 'Phases R, A–D, S');
  assert.equal(bySlug['hybrid-cert-sync'].phases, 'Phases R, A–G, S');
  assert.equal(bySlug['onprem-cert'].phases, 'Phases R, A–G, S');
  assert.equal(bySlug['hybrid-cert-sync'].trust, 'Certificate trust');
  assert.equal(bySlug['hybrid-cert-sync'].signIn, 'Federated');
  assert.equal(bySlug['onprem-key'].deployment, 'On-premises');
  // Cloud Kerberos trust: no sync phase, no certificate phases.
  assert.equal(bySlug['hybrid-cloud-kerberos'].trust, 'Cloud Kerberos trust');
  assert.equal(bySlug['hybrid-cloud-kerberos'].phases, 'Phases R, A–C, S');
  // Current product names, and once what they were called before.
  assert.match(await page.getByTestId('names-note').innerText(), /Microsoft Entra ID was called Azure Active Directory \(Azure AD\)/);
  assert.match(await catalog.card('aadj-managed').innerText(), /Microsoft Entra joined, managed/);
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
  assert.equal(await catalog.cards().count(), FLOW_SLUGS.length);
  assertNoProblems(problems);
  await context.close();
});
