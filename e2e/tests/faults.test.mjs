// Conditions, faults and tampering: each one set on the page, and the check
// the core's engine runs for real fails (or is skipped) with its reason shown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { launch, openPage, assertNoProblems, BASE_URL } from '../lib/harness.mjs';
import { ExplorerPage } from '../pages/explorer.mjs';
import { ConditionsPanel, ClockPanel, TamperPanel, EditsBanner, HoldingsPanel, afterReopen } from '../pages/faults.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

// Steps of Microsoft Entra joined, managed: their ids, and their 0-based
// positions (after phase R: the nine steps of its device registration and
// the six of the Windows sign-in with the password).
const JOIN = 9;
const PROVISIONING = JOIN + 6;
const ID = {
  approve: 'tokens.mfa-prompt', // MFA service → User: approve the sign-in?
  token: 'tokens.issue-access-token', // Entra ID → WAM: ADRS access token
  enroll: 'gestures.enroll-biometric', // User → sensor: enroll face or fingerprint
  pin: 'gestures.create-pin', // User → CXH: PIN, typed twice
  poolKey: 'gestures.request-key', // CXH → TPM: a key from the pool
  attestation: 'gestures.return-key', // TPM → CXH: public key and attestation
  register: 'registration.register-key', // CXH → Entra DRS: register the public key
  validate: 'registration.validate-registration', // Entra DRS checks token and attestation
};
const MANAGED = {
  approve: PROVISIONING + 6,
  token: PROVISIONING + 9,
  enroll: PROVISIONING + 12,
  pin: PROVISIONING + 13,
  poolKey: PROVISIONING + 14,
  attestation: PROVISIONING + 15,
  register: PROVISIONING + 16,
  validate: PROVISIONING + 17,
  last: PROVISIONING + 19,
};

/** Opens `query` and waits for step `index` to run. */
async function start(t, query, index) {
  const { page, problems, context } = await openPage(browser);
  t.after(() => context.close());
  const explorer = new ExplorerPage(page);
  await explorer.goto(`${BASE_URL}?${query}`);
  await explorer.waitForStep(index);
  return { page, problems, explorer };
}

test('no biometric sensor: enrolment is skipped, not failed', { timeout: 120_000 }, async (t) => {
  const { page, problems, explorer } = await start(t, `flow=aadj-managed&step=${ID.enroll}`, MANAGED.enroll);
  assert.equal(await explorer.summaryStatus(), 'done');
  const conditions = new ConditionsPanel(page);
  await conditions.sensor(false);
  assert.equal(await explorer.waitForStep(MANAGED.enroll), 'skipped');
  assert.match(await explorer.summaryText(), /Skipped: there is no biometric sensor/);
  assert.equal(await explorer.halt().count(), 0);
  assert.match(page.url(), /sensor=0/);
  assert.match(await conditions.summary(), /no biometric sensor/);
  // With the sensor back, the user may still skip enrollment.
  await conditions.sensor(true);
  assert.equal(await explorer.waitForStep(MANAGED.enroll), 'done');
  await conditions.skipBiometric(true);
  assert.equal(await explorer.waitForStep(MANAGED.enroll), 'skipped');
  assert.match(await explorer.summaryText(), /Skipped: the user chose to skip biometric enrollment/);
  assert.match(page.url(), /biometric=skip/);
  assertNoProblems(problems);
});

test('a recent MFA skips the prompt; an old one does not', { timeout: 120_000 }, async (t) => {
  const { page, problems, explorer } = await start(t, `flow=aadj-managed&step=${ID.approve}`, MANAGED.approve);
  const conditions = new ConditionsPanel(page);
  await conditions.lastMfa(2);
  assert.equal(await explorer.waitForStep(MANAGED.approve), 'skipped');
  assert.match(await explorer.summaryText(), /the last MFA is still fresh/);
  assert.match(page.url(), /mfa=2/);
  const clock = new ClockPanel(page);
  assert.equal((await clock.mfa()).state, 'fresh');

  await conditions.lastMfa(15);
  assert.equal(await explorer.waitForStep(MANAGED.approve), 'done');
  assert.match(page.url(), /mfa=15/);
  await explorer.jump(MANAGED.approve - 2);
  assert.ok(
    (await explorer.root.getByTestId('note').allInnerTexts()).some((n) => /more than 10 min/.test(n)),
    'the MFA decision says why a prompt is needed',
  );
  assertNoProblems(problems);
});

test('three wrong PINs: the TPM counts them and the flow completes', { timeout: 150_000 }, async (t) => {
  const { page, problems, explorer } = await start(t, `flow=aadj-managed&step=${ID.poolKey}`, MANAGED.poolKey);
  await new ConditionsPanel(page).wrongPins(3);
  assert.equal(await explorer.waitForStep(MANAGED.poolKey), 'done');
  const holdings = new HoldingsPanel(page);
  const tpm = await holdings.of('tpm');
  const counter = tpm.find((h) => h.item === 'Dictionary-attack counter');
  assert.match(counter.detail, /^3 of 32 failed authorisations/);
  // The TPM's private keys are named, never shown.
  const privateKeys = tpm.filter((h) => h.kind === 'private-key');
  assert.ok(privateKeys.length >= 4);
  for (const key of privateKeys) {
    assert.match(key.place, /held inside the TPM/);
    assert.doesNotMatch(key.detail, /[0-9a-f]{32}/);
  }
  // The failed authorisations are real TPM exchanges.
  const tabs = await explorer.artifactTabs().allInnerTexts();
  assert.equal(tabs.filter((t) => /TPM_RC_AUTH_FAIL/.test(t)).length, 3);
  assert.equal(await explorer.jump(MANAGED.last), 'done');
  assert.equal(await explorer.halt().count(), 0);
  assertNoProblems(problems);
});

test('thirty-two wrong PINs lock the TPM out', { timeout: 120_000 }, async (t) => {
  const { page, problems, explorer } = await start(t, `flow=aadj-managed&step=${ID.poolKey}`, MANAGED.poolKey);
  await new ConditionsPanel(page).wrongPins(32);
  assert.equal(await explorer.waitForStep(MANAGED.poolKey), 'failed');
  const halt = await explorer.haltText();
  assert.match(halt, /PIN authorises the key/);
  assert.match(halt, /TPM_RC_LOCKOUT/);
  const check = await explorer.check('PIN authorises the key');
  assert.equal(check.outcome, 'fail');
  assert.match(check.reason, /TPM_RC_LOCKOUT/);
  assertNoProblems(problems);
});

test('a PIN against the policy, then a confirmation that differs', { timeout: 150_000 }, async (t) => {
  const { page, problems, explorer } = await start(t, `flow=aadj-managed&step=${ID.pin}`, MANAGED.pin);
  const conditions = new ConditionsPanel(page);
  await conditions.pin('1234');
  assert.equal(await explorer.waitForStep(MANAGED.pin), 'failed');
  assert.match(await explorer.haltText(), /PIN meets the policy/);
  assert.match((await explorer.check('PIN meets the policy')).reason, /at least 6/);
  assert.match(page.url(), /pin=1234/);

  await conditions.pin('246810');
  assert.equal(await explorer.waitForStep(MANAGED.pin), 'done');
  await conditions.pinConfirmation('135790');
  assert.equal(await explorer.waitForStep(MANAGED.pin), 'failed');
  assert.match(await explorer.haltText(), /PIN confirmed/);
  assert.match((await explorer.check('PIN confirmed')).reason, /differ/);

  // A value the core cannot take is refused on the page, with the reason.
  const refused = await conditions.setRefused('cond-wrongpin', '99');
  assert.match(refused, /wrongpin must be a number from 0 to 64/);
  assertNoProblems(problems);
});

test('the federation server does not answer', { timeout: 120_000 }, async (t) => {
  // Provisioning's request for a token, after the device's registration
  // and the Windows sign-in.
  const { page, problems, explorer } = await start(t, 'flow=aadj-federated&step=tokens.sign-in-request', 23);
  assert.equal(await explorer.summaryStatus(), 'done');
  await new ConditionsPanel(page).federation(false);
  // Nobody joins without AD FS: the join's sign-in at AD FS fails.
  assert.equal(await explorer.waitForStep(1), 'failed');
  const halt = await explorer.haltText();
  assert.match(halt, /Federation server reachable/);
  assert.match(halt, /503/);
  assert.match(page.url(), /adfs=down/);
  assertNoProblems(problems);
});

test('managed: the password goes into a PRT at Windows sign-in, and provisioning presents the PRT instead', { timeout: 120_000 }, async (t) => {
  const SIGN_IN_REQUEST = PROVISIONING + 3; // WAM → Entra ID: authorization request with the PRT
  const { page, problems, explorer } = await start(t, 'flow=aadj-managed&step=tokens.sign-in-request', SIGN_IN_REQUEST);
  assert.equal(await explorer.waitForStep(SIGN_IN_REQUEST), 'done');
  for (const title of ['PRT is one Entra ID issued', 'Signed with the session key', 'Nonce is fresh']) {
    assert.equal((await explorer.check(title))?.outcome, 'pass', title);
  }
  assert.equal(await explorer.check('Password (first factor)'), undefined, 'no password at provisioning');
  const tabs = (await explorer.artifactTabs().allInnerTexts()).join(' | ');
  assert.match(tabs, /Authorization request with the PRT/);
  assert.match(tabs, /x-ms-RefreshTokenCredential/);
  const holdings = new HoldingsPanel(page);
  assert.ok((await holdings.of('cloudap')).some((h) => h.item === 'Primary Refresh Token'));

  // Another password typed at the sign-in screen: Entra ID refuses it
  // there, in phase R, and no PRT comes.
  await explorer.goto(`${BASE_URL}?flow=aadj-managed&step=windows-sign-in.validate-prt-request&password=guess`);
  assert.match(await explorer.haltText(), /Password \(first factor\)/);
  assert.match((await explorer.check('Password (first factor)')).reason, /the password is wrong/);
  assertNoProblems(problems);
});

test('federated: the password goes to AD FS once, at Windows sign-in, and its SAML token brings the PRT; provisioning presents the PRT and AD FS does the second factor', { timeout: 150_000 }, async (t) => {
  const VALIDATE_PRT = 17; // Entra ID checks device, nonce and AD FS's SAML token
  const FEDERATED_SIGN_IN = 24; // WAM → AD FS: WS-Federation sign-in for the second factor
  const EXCHANGE = 31; // Entra ID checks AD FS's token after MFA
  const { page, problems, explorer } = await start(t, 'flow=aadj-federated&step=windows-sign-in.validate-prt-request', VALIDATE_PRT);
  assert.equal(await explorer.waitForStep(VALIDATE_PRT), 'done');
  for (const title of ['Device signature', 'Nonce is fresh', 'Token signature', 'Issuer', 'Audience', 'User is known']) {
    assert.equal((await explorer.check(title))?.outcome, 'pass', title);
  }
  // The SAML token, as AD FS wrote it: XML, with its decoded tree.
  await explorer.jump(VALIDATE_PRT - 3);
  const tabs = (await explorer.artifactTabs().allInnerTexts()).join(' | ');
  assert.match(tabs, /SAML token for Entra ID/);
  const saml = page.locator('[data-testid="artifact"][data-artifact="ws-trust-response"]');
  await page.locator('[data-testid="artifact-tab"][data-artifact="ws-trust-response"]').click();
  await saml.waitFor();
  assert.ok(await saml.locator('[data-testid="field"][data-name="saml:Assertion"]').count() > 0, 'the assertion in the tree');
  // Provisioning: no password; Entra ID sends WAM to AD FS for MFA.
  assert.equal(await explorer.jump(FEDERATED_SIGN_IN), 'done');
  for (const title of ['Relying party is trusted', 'User is known']) {
    assert.equal((await explorer.check(title))?.outcome, 'pass', title);
  }
  assert.equal(await explorer.check('Password (first factor)'), undefined, 'no password at provisioning');
  assert.equal(await explorer.jump(EXCHANGE), 'done');
  for (const title of ['Token signature', 'MFA claim', 'MFA is fresh']) {
    assert.equal((await explorer.check(title))?.outcome, 'pass', title);
  }
  // Another password: AD FS refuses it at the WS-Trust request, in phase R.
  await explorer.goto(`${BASE_URL}?flow=aadj-federated&step=windows-sign-in.request-saml-token&password=guess`);
  assert.match(await explorer.haltText(), /Password \(first factor\)/);
  assertNoProblems(problems);
});

test('on premises: the password brings an enterprise PRT from AD FS, which provisioning presents to AD FS', { timeout: 120_000 }, async (t) => {
  const ISSUE_PRT = 14; // AD FS → CloudAP: enterprise PRT and session key
  const SIGN_IN_REQUEST = 19; // WAM → AD FS: authorization request with the PRT
  const { page, problems, explorer } = await start(t, 'flow=onprem-key&step=tokens.sign-in-request', SIGN_IN_REQUEST);
  assert.equal(await explorer.waitForStep(SIGN_IN_REQUEST), 'done');
  for (const title of ['PRT is one AD FS issued', 'Signed with the session key', 'Nonce is fresh', 'Device is registered and enabled', 'Relying party is trusted']) {
    assert.equal((await explorer.check(title))?.outcome, 'pass', title);
  }
  assert.equal(await explorer.check('Password (first factor)'), undefined, 'no password at provisioning');
  const holdings = new HoldingsPanel(page);
  assert.ok((await holdings.of('adfs')).some((h) => h.item === 'Issued PRTs'));
  // The device reports the enterprise PRT as dsregcmd does.
  await explorer.jump(ISSUE_PRT + 1);
  const panel = page.getByTestId('device-state');
  if ((await panel.getAttribute('open')) === null) await page.getByTestId('device-state-summary').click();
  const value = async (name) => (await panel.locator(`[data-testid="report-entry"][data-name="${name}"]`).getByTestId('report-value').textContent()).trim();
  assert.equal(await value('EnterprisePrt'), 'YES');
  assert.equal(await value('EnterprisePrtAuthority'), 'https://adfs.contoso.com:443/adfs');

  // Another password: AD FS refuses it against Active Directory, in phase R.
  await explorer.goto(`${BASE_URL}?flow=onprem-key&step=windows-sign-in.validate-prt-request&password=guess`);
  assert.match(await explorer.haltText(), /Password \(first factor\)/);
  assertNoProblems(problems);
});

test('hybrid key trust: sign-in is refused before the sync and works after it', { timeout: 150_000 }, async (t) => {
  // An old numeric link counts from provisioning's first step: after the
  // computer's hybrid join (11 steps) and the Windows sign-in (6), step 26
  // is the sign-in after the sync.
  const { page, problems, explorer } = await start(t, 'flow=hybrid-key-managed&step=26', 42);
  const total = await explorer.total();
  assert.equal(total, 52);
  for (const check of await explorer.checkOutcomes()) assert.equal(check.outcome, 'pass', check.title);
  const clock = new ClockPanel(page);
  assert.match(await clock.sync(), /Microsoft Entra Connect ran at 09:48:00/);

  await explorer.jump(37);
  const refused = await explorer.check('Key found in msDS-KeyCredentialLink');
  assert.equal(refused.outcome, 'refused');
  assert.match(refused.reason, /msDS-KeyCredentialLink is empty/);
  assert.equal(await explorer.summaryStatus(), 'done');
  // The cycle that brought the computer to Entra ID ran at 09:18.
  assert.match(await clock.sync(), /ran at 09:18:00; next cycle at 09:48:00/);
  assertNoProblems(problems);
});

test('moving the clock on by 15 minutes at the key registration makes the MFA stale', { timeout: 120_000 }, async (t) => {
  const { page, problems, explorer } = await start(t, `flow=aadj-managed&step=${ID.register}`, MANAGED.register);
  const clock = new ClockPanel(page);
  const before = await clock.now();
  const banner = new EditsBanner(page);
  await clock.wait(15);
  const { verdict, text } = await banner.verdict(0);
  assert.equal(verdict, 'caught');
  assert.match(text, /MFA is still fresh/);
  assert.match(await explorer.haltText(), /MFA is still fresh/);
  // The page shows the step that refused, with the check's reason.
  assert.equal(await explorer.current(), MANAGED.validate);
  assert.match((await explorer.check('MFA is still fresh')).reason, /.+/);
  assert.notEqual(await clock.now(), before);
  assert.equal((await clock.mfa()).state, 'stale');
  assert.deepEqual(await banner.edits(), [`After step ${MANAGED.register + 1}: the clock moved on by 15 min`]);
  // Undo gives the documented run back.
  await afterReopen(page, () => banner.undo());
  assert.equal(await explorer.waitForStep(MANAGED.validate), 'done');
  assert.equal(await explorer.halt().count(), 0);
  assert.equal(await banner.root.count(), 0);
  assertNoProblems(problems);
});

test('a link carries its edits: the same run, caught by the same check', { timeout: 120_000 }, async (t) => {
  // The engine's text form of an edit list, as `whfb run --edits` takes it.
  const edits = 'v1:registration.register-key/advance/15';
  const query = `flow=aadj-managed&step=${ID.validate}&edits=${encodeURIComponent(edits)}`;
  const { page, problems, explorer } = await start(t, query, MANAGED.validate);
  const banner = new EditsBanner(page);
  const { verdict, text } = await banner.verdict(0);
  assert.equal(verdict, 'caught');
  assert.match(text, /MFA is still fresh/);
  assert.equal(await explorer.halt().count(), 1);
  assert.deepEqual(await banner.edits(), [`After step ${MANAGED.register + 1}: the clock moved on by 15 min`]);
  // The address bar still links to this run, edits included.
  await page.waitForFunction(() => new URL(location.href).searchParams.get('edits') !== null);
  assert.equal(new URL(page.url()).searchParams.get('edits'), edits);
  assertNoProblems(problems);
});

test('edits survive a reload: a tampered token and a moved clock give the same failing check; a damaged link still opens', { timeout: 150_000 }, async (t) => {
  const { page, problems, explorer } = await start(t, `flow=aadj-managed&step=${ID.token}`, MANAGED.token);
  const tamper = new TamperPanel(page);
  const banner = new EditsBanner(page);
  const clock = new ClockPanel(page);
  await tamper.open('access-token');
  await tamper.editClaims((c) => {
    c.aud = 'urn:somewhere-else';
  });
  let since = await banner.version();
  await tamper.keepSignature();
  assert.equal((await banner.verdict(since)).verdict, 'caught');
  // The clock moved on, at the token's step too.
  await explorer.jump(MANAGED.token);
  since = await banner.version();
  await clock.wait(5);
  await banner.verdict(since);
  const halt = await explorer.haltText();
  assert.match(halt, /Access token signature/);
  const edits = await banner.edits();
  assert.equal(edits.length, 2, edits.join(' | '));
  // The address bar follows within a quarter of a second: the step shown
  // (the one that refused) and both edits.
  await page.waitForFunction((step) => {
    const params = new URL(location.href).searchParams;
    return params.get('step') === step && (params.get('edits') ?? '').includes(';');
  }, ID.validate);

  // Reloaded: the same step, the same edits, the same refusal, nothing lost.
  await page.reload();
  assert.equal(await explorer.waitForStep(MANAGED.validate), 'failed');
  assert.equal(await explorer.haltText(), halt);
  assert.deepEqual(await banner.edits(), edits);
  await explorer.jump(MANAGED.validate);
  assert.equal((await explorer.check('Access token signature')).outcome, 'fail');

  // A link whose edits are damaged opens the run without them, and says so.
  await explorer.goto(`${BASE_URL}?flow=aadj-managed&step=${ID.validate}&edits=v1%3Aregistration.register-key%2Fadvance`);
  assert.equal(await explorer.waitForStep(MANAGED.validate), 'done');
  assert.match(await page.getByTestId('notice').first().innerText(), /edits could not be read/);
  assert.equal(await explorer.halt().count(), 0);
  assertNoProblems(problems);
});

test('an edited access token: caught by its signature, by its audience, by the user lookup; an edit nothing checks; one an attacker signed', { timeout: 180_000 }, async (t) => {
  const { page, problems, explorer } = await start(t, `flow=aadj-managed&step=${ID.token}`, MANAGED.token);
  const tamper = new TamperPanel(page);
  const banner = new EditsBanner(page);

  // Bad input is refused before anything is sent.
  await tamper.open('access-token');
  await tamper.setText('{"aud": ');
  await tamper.keepSignature();
  assert.match(await tamper.error(), /not valid JSON/);

  // 1. The audience changed, the original signature kept.
  await tamper.reset();
  await tamper.editClaims((c) => {
    c.aud = 'urn:somewhere-else';
  });
  let since = await banner.version();
  await tamper.keepSignature();
  let result = await banner.verdict(since);
  assert.equal(result.verdict, 'caught');
  assert.match(await explorer.haltText(), /Access token signature/);
  assert.equal(await explorer.current(), MANAGED.validate);
  assert.equal((await explorer.check('Access token signature')).outcome, 'fail');

  // 2. The same edit, re-signed with Entra ID's key: the audience check catches it.
  await explorer.jump(MANAGED.token);
  await tamper.open('access-token');
  assert.match(await page.getByTestId('resign-who').innerText(), /Entra ID token-signing key/);
  await tamper.editClaims((c) => {
    c.aud = 'urn:somewhere-else';
  });
  since = await banner.version();
  await tamper.resign();
  result = await banner.verdict(since);
  assert.equal(result.verdict, 'caught');
  assert.match(await explorer.haltText(), /Access token audience/);
  assert.match((await explorer.check('Access token audience')).reason, /urn:somewhere-else/);

  // 3. The user's name, re-signed: the registration service finds no such user.
  await explorer.jump(MANAGED.token);
  await tamper.open('access-token');
  await tamper.editClaims((c) => {
    c.upn = 'mallory@contoso.com';
  });
  since = await banner.version();
  await tamper.resign();
  result = await banner.verdict(since);
  assert.equal(result.verdict, 'caught');
  assert.match((await explorer.check('User is in the directory')).reason, /no user "mallory@contoso.com"/);

  // 3b. A claim no later step reads, re-signed: nothing catches it, and the page says so.
  await explorer.jump(MANAGED.token);
  await tamper.open('access-token');
  await tamper.editClaims((c) => {
    c.unique_name = 'mallory@contoso.com';
  });
  since = await banner.version();
  await tamper.resign();
  result = await banner.verdict(since);
  assert.equal(result.verdict, 'undetected');
  assert.match(result.text, /Nothing in the real system would catch this edit: the sender's key vouches for it/);
  assert.equal(await explorer.halt().count(), 0);
  assert.equal((await banner.edits()).length, 1);

  // 4. The same claim, signed with an attacker's own key: Entra ID never
  // vouched for it, so the signature check catches it.
  await explorer.jump(MANAGED.token);
  await tamper.open('access-token');
  await tamper.editClaims((c) => {
    c.upn = 'mallory@contoso.com';
  });
  since = await banner.version();
  await tamper.signAsAttacker();
  result = await banner.verdict(since);
  assert.equal(result.verdict, 'caught');
  assert.match(await explorer.haltText(), /Access token signature/);
  assert.match((await explorer.check('Access token signature')).reason, /signed by another key/);
  assertNoProblems(problems);
});

test('the attestation cannot be re-signed; a flipped byte is caught', { timeout: 120_000 }, async (t) => {
  const { page, problems, explorer } = await start(t, `flow=aadj-managed&step=${ID.attestation}`, MANAGED.attestation);
  const tamper = new TamperPanel(page);
  await tamper.open('key-attestation');
  assert.equal(await tamper.resignButton().isDisabled(), true);
  assert.match(await tamper.resignRefusal(), /restricted TPM key/);
  assert.equal(await tamper.attackerButton().isDisabled(), true);
  const before = await tamper.text();
  await tamper.flip(10_000);
  assert.match(await tamper.error(), /no byte at offset 10000/);
  await tamper.flip(40);
  assert.notEqual(await tamper.text(), before);
  await tamper.keepSignature();
  const { verdict } = await new EditsBanner(page).verdict(0);
  assert.equal(verdict, 'caught');
  assert.equal(await explorer.current(), MANAGED.validate);
  assert.match(await explorer.haltText(), /Attestation/);
  assertNoProblems(problems);
});

test('the run downloads as one ZIP with every artifact, the trace and a README', { timeout: 120_000 }, async (t) => {
  const { page, problems, explorer } = await start(t, 'flow=aadj-managed&step=tokens.start-provisioning', PROVISIONING);
  const [download] = await Promise.all([page.waitForEvent('download'), explorer.downloadRun().click()]);
  assert.equal(download.suggestedFilename(), 'whfb-aadj-managed-demo.zip');
  const bytes = await readFile(await download.path());
  assert.equal(bytes.subarray(0, 2).toString('latin1'), 'PK');
  const text = bytes.toString('latin1');
  for (const name of ['README.md', 'trace.json', 'index.json', 'artifacts/07-device-certificate.pem', 'artifacts/16-device-status.json']) {
    assert.ok(text.includes(name), `the ZIP holds ${name}`);
  }
  // The run so far on the network, as one capture: a pcapng whose HTTP
  // is the device's join and its token requests.
  const capture = storedEntries(bytes).get('network.pcapng');
  assert.ok(capture, 'the ZIP holds network.pcapng');
  assert.deepEqual([...capture.subarray(0, 4)], [0x0a, 0x0d, 0x0d, 0x0a], 'a pcapng section header');
  const packets = capture.toString('latin1');
  assert.ok(packets.includes('POST /EnrollmentServer/device/?api-version=2.0 HTTP/1.1\r\nHost: enterpriseregistration.windows.net'));
  assert.ok(packets.includes('POST /common/oauth2/token HTTP/1.1'));
  assertNoProblems(problems);
});

/** The files of a ZIP whose entries are stored (the run bundle's are), by name. */
function storedEntries(zip) {
  const files = new Map();
  let at = 0;
  while (zip.readUInt32LE(at) === 0x04034b50) {
    const size = zip.readUInt32LE(at + 18);
    const nameLength = zip.readUInt16LE(at + 26);
    const extraLength = zip.readUInt16LE(at + 28);
    const name = zip.subarray(at + 30, at + 30 + nameLength).toString('utf8');
    const start = at + 30 + nameLength + extraLength;
    files.set(name, zip.subarray(start, start + size));
    at = start + size;
  }
  return files;
}

test('key makers in other workers change no byte of a run', { timeout: 180_000 }, async (t) => {
  // The same run with every key made in the engine's worker, and with two
  // key-maker workers making the infrastructure keys: every artifact is the
  // same bytes. Only the TPM's own commands at the step that takes a key
  // may differ: whether the pool had a key ready by then (TPM2_Load) or the
  // TPM made it on the spot (TPM2_Create first) depends on timing, the key
  // itself does not.
  const runs = [];
  for (const makers of [0, 2]) {
    const { page, problems, explorer } = await start(t, `flow=hybrid-cert-sync&step=34&makers=${makers}`, 53);
    assert.equal(await explorer.step(53).getAttribute('data-status'), 'done');
    // The engine's worker, and the key makers it started.
    assert.equal(page.workers().length, 1 + makers);
    const [download] = await Promise.all([page.waitForEvent('download'), explorer.downloadRun().click()]);
    runs.push(storedEntries(await readFile(await download.path())));
    assertNoProblems(problems);
  }
  const [alone, helped] = runs;
  const artifacts = [...alone.keys()].filter((n) => n.startsWith('artifacts/') && !/-tpm-\d+-tpm2-/.test(n));
  assert.ok(artifacts.length > 25, `${artifacts.length} artifacts`);
  for (const name of ['artifacts/05-device-certificate-request.pem', 'artifacts/39-aik-certificate.pem', 'artifacts/44-certificate-request.pem', 'artifacts/50-countersigned-request.p7b']) {
    assert.ok(artifacts.includes(name), name);
  }
  for (const name of artifacts) {
    assert.ok(helped.get(name)?.equals(alone.get(name)), `${name}: the same bytes with and without key makers`);
  }
});

test('the TPM key pool fills in the background from page load', { timeout: 60_000 }, async (t) => {
  const { page, problems, explorer } = await start(t, 'flow=onprem-key', 0);
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid="pool-status"]')?.getAttribute('data-ready') ?? 0) >= 1,
    null,
    { timeout: 45_000 },
  );
  assert.match(await explorer.poolStatus().innerText(), /TPM key pool: [1-9] of 2 ready/);
  assertNoProblems(problems);
});

test('the join: a certificate request edited after the TPM signed it is refused; re-signed by the device key, the device joins', { timeout: 120_000 }, async (t) => {
  const SIGN = 3; // TPM → CXH: certificate request, signed in the TPM
  const VALIDATE = 5; // Entra DRS checks token and request
  const { page, problems, explorer } = await start(t, 'flow=aadj-managed&step=device-registration.sign-device-request', SIGN);
  const tamper = new TamperPanel(page);
  const banner = new EditsBanner(page);
  await tamper.open('device-certificate-request');
  assert.match(await page.getByTestId('resign-who').innerText(), /device key, in the TPM/);
  await tamper.flip(40);
  let since = await banner.version();
  await tamper.keepSignature();
  let result = await banner.verdict(since);
  assert.equal(result.verdict, 'caught');
  assert.equal(await explorer.current(), VALIDATE);
  assert.match(await explorer.haltText(), /Certificate request signature/);
  assert.match((await explorer.check('Certificate request signature')).reason, /signed by another key, or changed after signing/);
  const holdings = new HoldingsPanel(page);
  const devices = async () => (await holdings.of('azure-ad')).find((h) => h.item === 'Device objects').detail;
  assert.match(await devices(), /none: no device has joined/);

  // The same edit signed again by the device key in the TPM: the request
  // verifies, so the service certifies whatever subject it now carries.
  await explorer.jump(SIGN);
  await tamper.open('device-certificate-request');
  await tamper.flip(40);
  since = await banner.version();
  await tamper.resign();
  result = await banner.verdict(since);
  assert.notEqual(result.verdict, 'caught');
  assert.equal(await explorer.jump(JOIN - 1), 'done');
  assert.match(await devices(), /DESKTOP-[0-9A-F]{8} \([0-9a-f-]{36}\), device key and transport key/);
  assertNoProblems(problems);
});

test('the first sign-in: a stale nonce, an edited or re-signed assertion, a disabled device and a key Entra ID no longer files for this device are each refused', { timeout: 180_000 }, async (t) => {
  const NONCE = PROVISIONING + 20 + 1; // CloudAP → Entra ID: ask for a nonce
  const ASSERTION = NONCE + 1; // CloudAP → TPM: sign the nonce with the user key
  const VALIDATE = NONCE + 3; // Entra ID checks device, nonce and key
  const LAST = NONCE + 5; // CloudAP → TPM: decrypt the session key
  const { page, problems, explorer } = await start(t, 'flow=aadj-managed&step=sign-in.decrypt-session-key', LAST);
  assert.equal(await explorer.waitForStep(LAST), 'done');
  assert.ok((await explorer.checkOutcomes()).some((c) => c.title === 'Transport key opens the session key' && c.outcome === 'pass'));
  const holdings = new HoldingsPanel(page);
  assert.ok((await holdings.of('cloudap')).some((h) => h.item === 'Primary Refresh Token'));
  const banner = new EditsBanner(page);

  // 1. The clock moves on 15 minutes after the nonce: it is stale when used.
  await explorer.jump(NONCE);
  const clock = new ClockPanel(page);
  let since = await banner.version();
  await clock.wait(15);
  let result = await banner.verdict(since);
  assert.equal(result.verdict, 'caught');
  assert.equal(await explorer.current(), VALIDATE);
  assert.match((await explorer.check('Nonce is fresh')).reason, /issued 15 min/);
  await afterReopen(page, () => banner.undo());
  assert.equal(await explorer.waitForStep(VALIDATE), 'done');

  // 2. The assertion, edited and signed with an attacker's own key.
  await explorer.jump(ASSERTION);
  const tamper = new TamperPanel(page);
  await tamper.open('ngc-assertion');
  assert.match(await page.getByTestId('resign-who').innerText(), /user key, in the TPM/);
  await tamper.editClaims((c) => {
    c.iss = 'mallory@contoso.com';
  });
  since = await banner.version();
  await tamper.signAsAttacker();
  result = await banner.verdict(since);
  assert.equal(result.verdict, 'caught');
  assert.equal(await explorer.current(), VALIDATE);
  assert.match(await explorer.haltText(), /Key is registered for the user|Assertion signature/);
  await afterReopen(page, () => banner.undo());

  // 2b. The same edit keeping the user key's signature: the signature no
  // longer matches what it signed.
  await explorer.jump(ASSERTION);
  await tamper.open('ngc-assertion');
  await tamper.editClaims((c) => {
    c.scope = 'openid aza ugs offline_access';
  });
  since = await banner.version();
  await tamper.keepSignature();
  result = await banner.verdict(since);
  assert.equal(result.verdict, 'caught');
  assert.equal(await explorer.current(), VALIDATE);
  assert.match((await explorer.check('Assertion signature')).reason, /.+/);
  await afterReopen(page, () => banner.undo());

  // 3. An administrator disables the device before the sign-in.
  const conditions = new ConditionsPanel(page);
  await conditions.deviceDisabled(true);
  assert.equal(await explorer.waitForStep(VALIDATE), 'failed');
  assert.match((await explorer.check('Device is registered and enabled')).reason, /AADSTS135011/);
  assert.match(page.url(), /device=disabled/);
  await conditions.deviceDisabled(false);
  assert.equal(await explorer.waitForStep(VALIDATE), 'done');

  // 4. The key is gone from Entra ID, or filed under the device's previous
  // object: the sign-in is refused by the key check, with its reason.
  await conditions.helloKey('deleted');
  assert.equal(await explorer.waitForStep(VALIDATE), 'failed');
  assert.match((await explorer.check('Key is registered for the user')).reason, /no key with the ID .+ is registered for the user/);
  assert.match(page.url(), /hellokey=deleted/);
  await conditions.helloKey('other-device');
  assert.equal(await explorer.waitForStep(VALIDATE), 'failed');
  assert.match((await explorer.check('Key is registered for the user')).reason, /the key was registered from device [0-9a-f-]+, not from [0-9a-f-]+/);
  assertNoProblems(problems);
});

test('hybrid join: a computer outside Microsoft Entra Connect\'s scope is refused by the registration service', { timeout: 150_000 }, async (t) => {
  const { page, problems, explorer } = await start(t, 'flow=hybrid-key-managed&step=device-registration.install-device-certificate', 10);
  assert.equal(await explorer.summaryStatus(), 'done');
  const panel = page.getByTestId('device-state');
  const value = async (name) =>
    (await panel.locator(`[data-testid="report-entry"][data-name="${name}"]`).getByTestId('report-value').textContent()).trim();
  if ((await panel.getAttribute('open')) === null) await page.getByTestId('device-state-summary').click();
  assert.equal(await value('AzureAdJoined'), 'YES');
  assert.equal(await value('DomainJoined'), 'YES');

  await new ConditionsPanel(page).computerOutOfScope(true);
  assert.equal(await explorer.waitForStep(7), 'failed');
  assert.match((await explorer.check('The device object exists')).reason, /The device object by the given id \([0-9a-f-]+\) is not found/);
  assert.match(page.url(), /computersync=out-of-scope/);
  assert.equal(await value('AzureAdJoined'), 'NO');

  // A forest never configured for device registration: the join task
  // finds no service connection point and goes no further.
  const conditions = new ConditionsPanel(page);
  await conditions.computerOutOfScope(false);
  await conditions.scpMissing(true);
  assert.equal(await explorer.waitForStep(0), 'failed');
  assert.match((await explorer.check('The forest names a tenant')).reason, /no service connection point/);
  assert.match(page.url(), /scp=missing/);
  assertNoProblems(problems);
});

test('AD FS cannot reach the cloud registration service: no receipt signers, so the key receipt cannot vouch for the key before the sync', { timeout: 150_000 }, async (t) => {
  const FETCH = 47;
  const VALIDATE = 48;
  const { page, problems, explorer } = await start(t, 'flow=hybrid-cert-sync&step=enrollment.fetch-receipt-signers', FETCH);
  assert.equal(await explorer.summaryStatus(), 'done');
  await new ConditionsPanel(page).cloudRegistrationUnreachable(true);
  assert.equal(await explorer.waitForStep(FETCH), 'skipped');
  assert.match(page.url(), /cloudreg=unreachable/);
  await explorer.goto(`${BASE_URL}?flow=hybrid-cert-sync&step=enrollment.validate-request&cloudreg=unreachable`);
  assert.equal(await explorer.waitForStep(VALIDATE), 'failed');
  assert.match((await explorer.check('Key receipt signature')).reason, /AD FS holds no receipt signers/);
  assertNoProblems(problems);
});

test('AD FS\'s account outside the template\'s enrollment group: the CA refuses the certificate with CERTSRV_E_TEMPLATE_DENIED', { timeout: 150_000 }, async (t) => {
  const ISSUE = 43;
  const { page, problems, explorer } = await start(t, 'flow=onprem-cert&step=enrollment.issue-certificate', ISSUE);
  assert.equal(await explorer.summaryStatus(), 'done');
  await new ConditionsPanel(page).helloGroupNotMember(true);
  assert.equal(await explorer.waitForStep(ISSUE), 'failed');
  const check = await explorer.check('Requester may enroll for the template');
  assert.match(check.reason, /CERTSRV_E_TEMPLATE_DENIED \(0x80094012\)/);
  assert.match(page.url(), /hellogroup=not-member/);
  assertNoProblems(problems);
});

test('the PIN signs in to the domain with PKINIT: a TGT, and a KDC that refuses a skewed clock', { timeout: 150_000 }, async (t) => {
  // On-premises key trust: phase S ends with the client opening the AS-REP.
  const { page, problems, explorer } = await start(t, 'flow=onprem-key&step=kerberos.open-as-rep', 41);
  assert.equal(await explorer.waitForStep(41), 'done');
  for (const title of ['KDC certificate', 'Reply opens with the Diffie-Hellman key', 'Reply nonce']) {
    assert.equal((await explorer.check(title))?.outcome, 'pass', title);
  }
  const holdings = new HoldingsPanel(page);
  assert.ok((await holdings.of('kerberos')).some((h) => h.item === 'Kerberos TGT'));
  // The KDC's own checks, one step before: the key found in AD.
  await explorer.jump(39);
  assert.equal((await explorer.check('Key found in msDS-KeyCredentialLink'))?.outcome, 'pass');
  const tabs = (await explorer.artifactTabs().allInnerTexts()).join(' | ');
  assert.doesNotMatch(tabs, /AS-REP/);

  // Six minutes pass between the client's request and the KDC: KRB_AP_ERR_SKEW.
  const edits = 'v1:kerberos.send-as-req/advance/6';
  await explorer.goto(`${BASE_URL}?flow=onprem-key&step=kerberos.check-as-req&edits=${encodeURIComponent(edits)}`);
  assert.match(await explorer.haltText(), /Clock skew/);
  assert.match((await explorer.check('Clock skew')).reason, /apart/);
  assertNoProblems(problems);
});

test('certificate trust: the KDC maps the certificate by its SID extension and checks the CRL', { timeout: 150_000 }, async (t) => {
  const { page, problems, explorer } = await start(t, 'flow=onprem-cert&step=kerberos.check-as-req', 50);
  assert.equal(await explorer.waitForStep(50), 'done');
  for (const title of ['Certificate chains to an NTAuth CA', 'Smart Card Logon EKU', 'Certificate not revoked', 'Strong mapping: the SID extension']) {
    assert.equal((await explorer.check(title))?.outcome, 'pass', title);
  }
  assertNoProblems(problems);
});

test('a domain controller without a KDC certificate, and a revoked logon certificate, are refused by the KDC', { timeout: 150_000 }, async (t) => {
  const { page, problems, explorer } = await start(t, 'flow=onprem-key&step=kerberos.check-as-req', 39);
  await new ConditionsPanel(page).dcCertificateMissing(true);
  assert.match(await explorer.haltText(), /The KDC can do PKINIT/);
  assert.match((await explorer.check('The KDC can do PKINIT')).reason, /no KDC certificate/);
  assert.match(page.url(), /dccert=missing/);

  await explorer.goto(`${BASE_URL}?flow=onprem-cert&step=kerberos.check-as-req&usercert=revoked`);
  assert.match(await explorer.haltText(), /Certificate not revoked/);
  assert.match((await explorer.check('Certificate not revoked')).reason, /CRL lists this certificate as revoked/);
  assertNoProblems(problems);
});

test('cloud Kerberos trust: the partial TGT from Entra ID becomes a full TGT at the domain controller', { timeout: 150_000 }, async (t) => {
  const CHECK = 48; // the KDC checks the TGS-REQ
  const OPEN = 50; // the client opens the TGS-REP
  const { page, problems, explorer } = await start(t, 'flow=hybrid-cloud-kerberos&step=cloud-kerberos.open-tgs-rep', OPEN);
  assert.equal(await explorer.waitForStep(OPEN), 'done');
  assert.equal((await explorer.check('Reply opens with the partial ticket\'s session key'))?.outcome, 'pass');
  const holdings = new HoldingsPanel(page);
  const kerberos = (await holdings.of('kerberos')).map((h) => h.item);
  assert.ok(kerberos.includes('Partial TGT') && kerberos.includes('Kerberos TGT'), kerberos.join(', '));
  await explorer.jump(CHECK);
  for (const title of ['The ticket\'s issuer is known', 'The PAC is the RODC\'s', 'Account found by SID', 'The RODC may vouch for the user']) {
    assert.equal((await explorer.check(title))?.outcome, 'pass', title);
  }
  const tabs = (await explorer.artifactTabs().allInnerTexts()).join(' | ');
  assert.doesNotMatch(tabs, /TGS-REP/);
  assertNoProblems(problems);
});

test('cloud Kerberos trust faults: no server object, its key reset in AD, a privileged user, a skewed clock', { timeout: 200_000 }, async (t) => {
  const HAND_OVER = 46; // CloudAP hands the partial TGT to Kerberos
  const CHECK = 48; // the KDC checks the TGS-REQ
  const { page, problems, explorer } = await start(t, 'flow=hybrid-cloud-kerberos&step=cloud-kerberos.check-tgs-req', CHECK);
  const conditions = new ConditionsPanel(page);
  await conditions.kerberosServer('rotated');
  assert.match(await explorer.haltText(), /The key version is current/);
  assert.match((await explorer.check('The key version is current')).reason, /Active Directory holds version 2/);
  assert.match(page.url(), /kerberosserver=rotated/);

  await conditions.kerberosServer('missing');
  assert.match(await explorer.haltText(), /A partial TGT for the domain/);
  assert.equal(await explorer.waitForStep(HAND_OVER), 'failed');
  assert.match((await explorer.check('A partial TGT for the domain')).reason, /OnPremTgt : NO/);

  await conditions.kerberosServer('present');
  assert.equal(await explorer.jump(CHECK), 'done');
  await conditions.privileged(true);
  assert.match(await explorer.haltText(), /The RODC may vouch for the user/);
  assert.match((await explorer.check('The RODC may vouch for the user')).reason, /Denied RODC Password Replication Group/);
  await conditions.privileged(false);

  await conditions.clockSkew(9);
  assert.match(await explorer.haltText(), /Clock skew/);
  assert.match((await explorer.check('Clock skew')).reason, /apart/);
  assert.match(await conditions.summary(), /clock 9 min ahead/);
  assertNoProblems(problems);
});

test('an expired logon certificate, and one without the SID extension, are refused by the KDC', { timeout: 150_000 }, async (t) => {
  const { page, problems, explorer } = await start(t, 'flow=onprem-cert&step=kerberos.check-as-req', 50);
  const conditions = new ConditionsPanel(page);
  await conditions.userCertificate('expired');
  assert.match(await explorer.haltText(), /Certificate is valid now/);
  assert.match((await explorer.check('Certificate is valid now')).reason, /valid from .* to /);
  assert.match(page.url(), /usercert=expired/);
  await conditions.userCertificate('no-sid');
  assert.match(await explorer.haltText(), /Strong mapping: the SID extension/);
  assert.match((await explorer.check('Strong mapping: the SID extension')).reason, /UPN alone is a weak mapping/);
  assertNoProblems(problems);
});

test('the AS-REQ edited on its way is caught by its checksum; signed again by the user key in the TPM, the KDC accepts it', { timeout: 150_000 }, async (t) => {
  const SEND = 38; // Kerberos → Active Directory: AS-REQ with PKINIT
  const CHECK = 39; // the KDC checks the request
  const { page, problems, explorer } = await start(t, 'flow=onprem-key&step=kerberos.send-as-req', SEND);
  const tamper = new TamperPanel(page);
  const banner = new EditsBanner(page);
  await tamper.open('kerberos-as-req');
  assert.match(await page.getByTestId('resign-who').innerText(), /user key, in the TPM/);
  // The last byte: the request body's second etype (17 becomes 16).
  const tag = await page.getByTestId('inspector').locator('[data-testid="artifact"][data-artifact="kerberos-as-req"] .tag').first().innerText();
  const size = Number(/(\d+) bytes/.exec(tag)[1]);
  await tamper.flip(size - 1);
  let since = await banner.version();
  await tamper.keepSignature();
  let result = await banner.verdict(since);
  assert.equal(result.verdict, 'caught');
  assert.equal(await explorer.current(), CHECK);
  assert.match((await explorer.check('Request checksum')).reason, /changed after the client signed/);

  // Signed again: the checksum is the edited body's, the KDC issues the TGT.
  await explorer.jump(SEND);
  await tamper.open('kerberos-as-req');
  await tamper.flip(size - 1);
  since = await banner.version();
  await tamper.resign();
  result = await banner.verdict(since);
  assert.notEqual(result.verdict, 'caught');
  assert.equal(await explorer.jump(CHECK + 2), 'done');
  assertNoProblems(problems);
});

test('follow the key: the user key\'s modulus, picked in the TPM\'s public area, is found in every artifact that carries it, and each place opens highlighted', { timeout: 180_000 }, async (t) => {
  const { page, problems, explorer } = await start(t, 'flow=hybrid-cert-sync', 0);
  const total = await explorer.total();
  await page.keyboard.press('End');
  assert.equal(await explorer.waitForStep(total - 1, 150_000), 'done');
  const at = Number(await page.locator('[data-testid="step"][data-step-id="gestures.return-key"]').getAttribute('data-step'));
  await explorer.jump(at);
  await page.locator('[data-testid="artifact-tab"][data-artifact="user-key-public"]').click();
  const artifact = page.locator('[data-testid="artifact"][data-artifact="user-key-public"]');
  // The modulus: the field named unique (TPM2B_PUBLIC_KEY_RSA's buffer).
  const unique = artifact.locator('[data-testid="field"][data-name*="unique"]').first();
  await unique.locator('[data-testid="follow"]').first().click();
  const panel = page.getByTestId('follow-panel');
  await panel.waitFor();
  const hits = await panel.getByTestId('follow-hit').evaluateAll((els) =>
    els.map((el) => ({ artifact: el.dataset.artifact, step: Number(el.dataset.step), text: el.textContent })),
  );
  const where = new Set(hits.map((h) => h.artifact));
  for (const id of ['user-key-public', 'key-credential-link', 'certificate-request', 'user-certificate', 'kerberos-as-req']) {
    assert.ok(where.has(id), `${id} among ${[...where].join(', ')}`);
  }
  assert.ok(hits.some((h) => /base64/.test(h.text)), 'found inside JSON as base64 too');
  // The user's certificate, many steps later: the step, the tab and the
  // 256 bytes of the modulus, highlighted.
  const cert = hits.find((h) => h.artifact === 'user-certificate');
  await panel.locator(`[data-testid="follow-hit"][data-artifact="user-certificate"]`).first().click();
  assert.equal(await explorer.waitForStep(cert.step), 'done');
  const shown = page.locator('[data-testid="artifact"][data-artifact="user-certificate"]');
  await shown.waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="artifact"] .byte.followed').length > 0);
  assert.equal(await shown.locator('.byte.followed').count(), 256);
  assertNoProblems(problems);
});
