import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, assertNoProblems, BASE_URL, ROOT_URL } from '../lib/harness.mjs';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CatalogPage, InspectPanel } from '../pages/catalog.mjs';
import { FLOW_SLUGS } from '../lib/registry.mjs';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

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

test('inspect your own value: a KeyCredentialLink value as AD prints it, a tampered one, a certificate from a file, a hostile paste; nothing leaves the page', { timeout: 120_000 }, async () => {
  const { page, problems, context } = await openPage(browser);
  const catalog = new CatalogPage(page);
  await catalog.goto(BASE_URL);
  const panel = new InspectPanel(page);
  await panel.root.waitFor({ state: 'visible' });
  await page.waitForLoadState('networkidle');
  // From here on, every request the page or its workers make is counted.
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));

  const dnBinary = readFileSync(join(FIXTURES, 'key-credential-link.txt'), 'utf8');
  const sound = await panel.paste(dnBinary);
  assert.equal(sound.kind, 'DnBinary', JSON.stringify(sound));
  assert.match(sound.readAs, /DN-Binary/);
  for (const title of ['KeyID', 'KeyHash', 'RSA-2048', 'KeyUsage is NGC']) {
    assert.deepEqual(sound.checks.find((c) => c.title === title)?.outcome, 'pass', title);
  }
  assert.ok(sound.fields.some((f) => /KeyMaterial/.test(f)), sound.fields.join(', '));

  // One hex digit of the key material changed: the KeyID no longer matches.
  const at = dnBinary.indexOf(':', 2) + 1 + 2 * 200;
  const tampered = dnBinary.slice(0, at) + (dnBinary[at] === '0' ? '1' : '0') + dnBinary.slice(at + 1);
  const caught = await panel.paste(tampered);
  assert.equal(caught.kind, 'DnBinary');
  const failed = caught.checks.filter((c) => c.outcome === 'fail').map((c) => c.title);
  assert.ok(failed.some((t) => /KeyID/.test(t)), failed.join(', '));

  // A DER certificate chosen as a file: a KDC's, which names no user.
  const pem = readFileSync(join(FIXTURES, 'kdc-certificate.pem'), 'utf8');
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const kdc = await panel.choose('kdc.cer', der);
  assert.equal(kdc.kind, 'Certificate');
  assert.equal(kdc.checks.find((c) => c.title === 'Names a user (UPN)')?.outcome, 'fail');
  assert.equal(kdc.checks.find((c) => c.title === 'RSA-2048')?.outcome, 'pass');

  // A hostile paste is read as text, never as markup.
  let dialogs = 0;
  page.on('dialog', async (d) => {
    dialogs += 1;
    await d.dismiss();
  });
  const hostile = await panel.paste('<img src=x onerror=alert(1)><script>alert(2)</script>');
  assert.match(hostile.error, /begins as XML does, but is not well-formed XML at byte 9: the value of src is not quoted/);
  assert.equal(dialogs, 0);
  assert.equal(await page.locator('[data-testid="inspect"] img').count(), 0);

  assert.deepEqual(requests, [], 'nothing was requested while values were inspected');
  assertNoProblems(problems);
  await context.close();
});

test('inspect: values a standard tool made read as their kind, and a malformed value of each kind is refused where and why', { timeout: 120_000 }, async () => {
  const { page, problems, context } = await openPage(browser);
  const catalog = new CatalogPage(page);
  await catalog.goto(BASE_URL);
  const panel = new InspectPanel(page);
  const fixture = (name) => readFileSync(join(FIXTURES, name), 'utf8');

  // OpenSSL's logon certificate: fit for PKINIT but for the SID extension.
  const cert = await panel.paste(fixture('openssl-logon-certificate.pem'));
  assert.equal(cert.kind, 'Certificate');
  const outcome = (r, title) => r.checks.find((c) => c.title === title)?.outcome;
  assert.equal(outcome(cert, 'Smart Card Logon EKU'), 'pass');
  assert.equal(outcome(cert, 'Names a user (UPN)'), 'pass');
  assert.equal(outcome(cert, 'Strong mapping: the SID extension'), 'fail');
  assert.ok(cert.fields.includes('subjectAltName'), cert.fields.join(', '));
  // OpenSSL's request: its self-signature verifies.
  const request = await panel.paste(fixture('openssl-request.pem'));
  assert.equal(request.kind, 'Pkcs10');
  assert.equal(outcome(request, "Request's self-signature"), 'pass');
  // xmlsec1's signed SAML assertion (AD FS's token shape): the digest and
  // signature check out; an edit of the user breaks the digest.
  const saml = await panel.paste(fixture('xmlsec1-signed-saml-assertion.xml'));
  assert.equal(saml.kind, 'Xml');
  assert.equal(outcome(saml, 'Signature matches the content and the certificate it carries'), 'pass');
  assert.equal(outcome(saml, 'Vouches for MFA'), 'pass');
  assert.ok(saml.fields.includes('saml:Assertion'), saml.fields.join(', '));
  const edited = await panel.paste(fixture('xmlsec1-signed-saml-assertion.xml').replace('megan.bowen@', 'admin@'));
  assert.equal(outcome(edited, 'Signature matches the content and the certificate it carries'), 'fail');

  // Malformed, each kind: cut short, or one byte off.
  const pemLines = fixture('openssl-logon-certificate.pem').trim().split('\n');
  const cutPem = [...pemLines.slice(0, 8), pemLines.at(-1)].join('\n');
  const cutCert = await panel.paste(cutPem);
  assert.equal(cutCert.kind, 'Certificate', 'the PEM label says what it should be');
  assert.match(cutCert.unreadable, /claims \d+ bytes, more than/);
  const dn = fixture('key-credential-link.txt');
  const hex = dn.split(':')[2];
  const cutBlob = await panel.paste(hex.slice(0, 400));
  assert.equal(cutBlob.kind, 'KeyCredentialLink');
  assert.match(cutBlob.unreadable, /truncated/);
  const badCount = await panel.paste(dn.replace(/^B:828:/, 'B:826:'));
  assert.match(badCount.error, /announces 826 hex characters/);
  const jwt = await panel.paste('eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.!!');
  assert.equal(jwt.kind, 'Jwt');
  assert.match(jwt.unreadable, /base64url/);
  const notXml = await panel.paste('<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion">');
  assert.match(notXml.error, /begins as XML does, but .* never closed/);
  const notDer = await panel.paste('3082ffff0101');
  assert.match(notDer.error, /begins as DER does, but/);
  // Not text at all: a file of random bytes.
  const random = await panel.choose('noise.bin', Buffer.from([0x13, 0x37, 0x00, 0xff, 0x42]));
  assert.match(random.error, /none of the kinds read here/);
  assertNoProblems(problems);
  await context.close();
});

test('compare two runs: a link lines up managed and federated Entra join by step id and marks exactly the steps that differ; the form takes conditions and says what it cannot read', { timeout: 240_000 }, async () => {
  const { page, problems, context } = await openPage(browser);
  await page.goto(`${BASE_URL}?compare=aadj-managed&with=aadj-federated`);
  const summary = page.getByTestId('compare-summary');
  await summary.waitFor({ timeout: 120_000 });
  assert.equal(await summary.innerText(), 'aadj-managed (A) and aadj-federated (B): 52 steps lined up by id, 14 of them differ.');
  const rows = page.getByTestId('compare-row');
  assert.equal(await rows.count(), 52);
  const differing = await page.locator('[data-testid="compare-row"][data-differs="true"]').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-step-id')));
  assert.deepEqual(differing, [
    'device-registration.join-sign-in',
    'device-registration.exchange-join-token',
    'device-registration.wait-for-sync',
    'device-registration.write-back-device',
    'windows-sign-in.request-saml-token',
    'windows-sign-in.issue-saml-token',
    'windows-sign-in.validate-prt-request',
    'tokens.sign-in-request',
    'tokens.federated-sign-in',
    'tokens.mfa-decision',
    'tokens.mfa-challenge',
    'tokens.mfa-result',
    'tokens.issue-enterprise-token',
    'tokens.exchange-enterprise-token',
  ]);
  // What differs, said, and each step a link into its own run.
  const saml = page.locator('[data-testid="compare-row"][data-step-id="windows-sign-in.request-saml-token"]');
  assert.match(await saml.innerText(), /only in B/);
  const join = page.locator('[data-testid="compare-row"][data-step-id="device-registration.join-sign-in"]');
  assert.match(await join.innerText(), /actors: Provisioning app \(CXH\) → Entra ID in A, Provisioning app \(CXH\) → AD FS \(STS\) in B/);
  const same = page.locator('[data-testid="compare-row"][data-step-id="registration.register-key"]');
  assert.equal(await same.getAttribute('data-differs'), 'false');
  assert.equal(await same.locator('a').first().getAttribute('href'), './?flow=aadj-managed&step=registration.register-key');
  // Only the differing steps, at a click.
  await page.getByTestId('compare-only-differing').check();
  assert.equal(await page.locator('[data-testid="compare-row"]:visible').count(), 14);

  // Key trust and cloud Kerberos trust: the key's sync and the Kerberos
  // sign-in are what differ. The address bar is the comparison's link.
  await page.getByTestId('compare-a').fill('hybrid-key-managed');
  await page.getByTestId('compare-b').fill('hybrid-cloud-kerberos');
  await page.getByTestId('compare-run').click();
  await page.waitForFunction(() => /57 steps lined up by id, 12 of them differ/.test(document.querySelector('[data-testid="compare-summary"]')?.textContent ?? ''), null, { timeout: 120_000 });
  assert.match(page.url(), /\?compare=hybrid-key-managed&with=hybrid-cloud-kerberos$/);
  const onlyA = await page.locator('[data-testid="compare-row"][data-differs="true"]').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-step-id')));
  assert.equal(onlyA.filter((id) => id.startsWith('key-sync.')).length, 6);
  assert.equal(onlyA.filter((id) => id.startsWith('cloud-kerberos.')).length, 5);

  // One flow under two conditions; the link reproduces it.
  await page.getByTestId('compare-a').fill('aadj-managed?mfa=none');
  await page.getByTestId('compare-b').fill('aadj-managed?mfa=5');
  await page.getByTestId('compare-run').click();
  await page.waitForFunction(() => /44 steps lined up by id, 4 of them differ/.test(document.querySelector('[data-testid="compare-summary"]')?.textContent ?? ''), null, { timeout: 120_000 });
  const link = page.url();
  await page.goto(link);
  await page.waitForFunction(() => /44 steps lined up by id, 4 of them differ/.test(document.querySelector('[data-testid="compare-summary"]')?.textContent ?? ''), null, { timeout: 120_000 });
  assert.equal(await page.getByTestId('compare-b').inputValue(), 'aadj-managed?mfa=5');

  // What cannot be read is said, and nothing runs.
  await page.getByTestId('compare-b').fill('nope');
  await page.getByTestId('compare-run').click();
  assert.match(await page.getByTestId('compare-error').innerText(), /The second run cannot be read: "nope" is not a flow \(the flows are aadj-managed, /);
  await page.getByTestId('compare-b').fill('aadj-managed?mfa=soon');
  await page.getByTestId('compare-run').click();
  assert.match(await page.getByTestId('compare-error').innerText(), /mfa/);
  assert.equal(await page.getByTestId('compare-table').count(), 0);
  assertNoProblems(problems);
  await context.close();
});

test('diagnose your device: a dsregcmd /status sample of each join type leads to its flow, its unmet prerequisite and the step that stops, which the link opens', { timeout: 240_000 }, async () => {
  const { page, problems, context } = await openPage(browser);
  await page.goto(BASE_URL);
  const panel = page.getByTestId('diagnose');
  const diagnose = async (text) => {
    await panel.getByTestId('diagnose-input').fill(text);
    await panel.getByTestId('diagnose-run').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="diagnosis"], [data-testid="diagnose-error"]'), null, { timeout: 120_000 });
  };
  const samples = [
    ['entra-joined-policy-disabled.txt', 'aadj-managed', 'PolicyEnabled', './?flow=aadj-managed&step=tokens.start-provisioning&prereq=policy-disabled'],
    ['hybrid-joined-remote-session.txt', 'hybrid-key-managed', 'SessionIsNotRemote', './?flow=hybrid-key-managed&step=tokens.start-provisioning&prereq=remote-session'],
    ['hybrid-not-joined.txt', 'hybrid-key-managed', 'IsDeviceJoined', './?flow=hybrid-key-managed&step=device-registration.find-tenant&scp=missing'],
    ['domain-joined-certificate-postlogon-disabled.txt', 'onprem-cert', 'PostLogonEnabled', './?flow=onprem-cert&step=tokens.start-provisioning&prereq=postlogon-disabled'],
  ];
  for (const [file, flow, unmet, link] of samples) {
    await diagnose(readFileSync(join(FIXTURES, 'dsregcmd', file), 'utf8'));
    assert.match(await panel.getByTestId('diagnose-flow').innerText(), new RegExp(flow), file);
    const failed = await panel.locator('[data-testid="diagnose-field"][data-met="false"]').evaluateAll((ls) => ls.map((l) => l.getAttribute('data-field')));
    assert.equal(failed[0], unmet, file);
    assert.match(await panel.getByTestId('diagnose-verdict').innerText(), new RegExp(`^First unmet: ${unmet}\\. .*the run stops at step \\d+`), file);
    assert.equal(await panel.getByTestId('diagnose-open').getAttribute('href'), link, file);
  }
  // The file as Windows PowerShell's `>` saves it: UTF-16 with a byte-order mark.
  const text = readFileSync(join(FIXTURES, 'dsregcmd', 'entra-joined-policy-disabled.txt'), 'utf8');
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  await panel.getByTestId('diagnose-file').setInputFiles({ name: 'status.txt', mimeType: 'text/plain', buffer: utf16 });
  await page.waitForFunction(() => /First unmet: PolicyEnabled/.test(document.querySelector('[data-testid="diagnose-verdict"]')?.textContent ?? ''), null, { timeout: 120_000 });
  // Not dsregcmd's output: said, precisely.
  await diagnose('{"AzureAdJoined": true}');
  assert.match(await panel.getByTestId('diagnose-error').innerText(), /no field of dsregcmd \/status was found/);
  await diagnose('| Ngc Prerequisite Check |\n PolicyEnabled : NO\n');
  assert.match(await panel.getByTestId('diagnose-error').innerText(), /does not say how the device is joined/);
  // The link opens the flow on the step that stops, its check failed, and
  // the device's report there says the same NO.
  await diagnose(readFileSync(join(FIXTURES, 'dsregcmd', 'hybrid-joined-remote-session.txt'), 'utf8'));
  await panel.getByTestId('diagnose-open').click();
  const step = page.locator('[data-testid="step"][data-step-id="tokens.start-provisioning"]');
  await step.locator('xpath=self::*[@data-status="failed"]').waitFor({ timeout: 120_000 });
  assert.equal(await step.getAttribute('data-state'), 'current');
  const entry = page.locator('[data-testid="report-section"][data-section="Ngc Prerequisite Check"] [data-testid="report-entry"][data-name="SessionIsNotRemote"] [data-testid="report-value"]');
  assert.equal((await entry.textContent()).trim(), 'NO');
  assertNoProblems(problems);
  await context.close();
});
