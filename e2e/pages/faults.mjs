// Page objects for changing a run: its conditions, its clock, the bytes on
// the wire, and for reading who holds what. They read data-testid
// attributes only.

/** The run is opened again (a new data-run on the explorer) after `action`. */
export async function afterReopen(page, action) {
  const explorer = page.getByTestId('explorer');
  const before = await explorer.getAttribute('data-run');
  await action();
  await page.waitForFunction(
    (b) => document.querySelector('[data-testid="explorer"]')?.getAttribute('data-run') !== b,
    before,
  );
}

export class ConditionsPanel {
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('conditions');
  }

  async open() {
    if ((await this.root.getAttribute('open')) === null) {
      await this.root.getByTestId('conditions-summary').click();
    }
  }

  /** What the summary says is changed. */
  async summary() {
    return (await this.root.getByTestId('conditions-now').innerText()).trim();
  }

  async setText(testid, value) {
    await this.open();
    const input = this.root.getByTestId(testid);
    await afterReopen(this.page, async () => {
      await input.fill(value);
      await input.press('Enter');
    });
  }

  /** A value the page refuses: no new run, a message instead. */
  async setRefused(testid, value) {
    await this.open();
    const input = this.root.getByTestId(testid);
    await input.fill(value);
    await input.press('Enter');
    return (await this.root.getByTestId('condition-error').innerText()).trim();
  }

  async setChecked(testid, checked) {
    await this.open();
    await afterReopen(this.page, () => this.root.getByTestId(testid).setChecked(checked));
  }

  async select(testid, value) {
    await this.open();
    await afterReopen(this.page, () => this.root.getByTestId(testid).selectOption(value));
  }

  sensor(checked) {
    return this.setChecked('cond-sensor', checked);
  }

  federation(up) {
    return this.setChecked('cond-adfs', up);
  }

  skipBiometric(skip) {
    return this.setChecked('cond-skip-biometric', skip);
  }

  deviceDisabled(disabled) {
    return this.setChecked('cond-device-disabled', disabled);
  }

  helloKey(value) {
    return this.select('cond-hellokey', value);
  }

  scpMissing(missing) {
    return this.setChecked('cond-scp-missing', missing);
  }

  cloudRegistrationUnreachable(unreachable) {
    return this.setChecked('cond-cloudreg-unreachable', unreachable);
  }

  helloGroupNotMember(notMember) {
    return this.setChecked('cond-hellogroup-not-member', notMember);
  }

  dcCertificateMissing(missing) {
    return this.setChecked('cond-dccert-missing', missing);
  }

  kerberosServer(value) {
    return this.select('cond-kerberosserver', value);
  }

  privileged(on) {
    return this.setChecked('cond-privileged', on);
  }

  clockSkew(minutes) {
    return this.setText('cond-skew', String(minutes));
  }

  userCertificate(value) {
    return this.select('cond-usercert', value);
  }

  computerOutOfScope(outOfScope) {
    return this.setChecked('cond-computer-out-of-scope', outOfScope);
  }

  lastMfa(minutesOrNone) {
    return this.select('cond-mfa', String(minutesOrNone));
  }

  wrongPins(n) {
    return this.setText('cond-wrongpin', String(n));
  }

  pin(pin) {
    return this.setText('cond-pin', pin);
  }

  pinConfirmation(pin) {
    return this.setText('cond-pin2', pin);
  }
}

export class ClockPanel {
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('clock');
  }

  async now() {
    return (await this.root.getByTestId('clock-now').innerText()).trim();
  }

  async mfa() {
    const el = this.root.getByTestId('clock-mfa');
    return { state: await el.getAttribute('data-state'), text: (await el.innerText()).trim() };
  }

  async sync() {
    return (await this.root.getByTestId('clock-sync').innerText()).trim();
  }

  /** Moves the clock on by `minutes` after the step shown. */
  async wait(minutes) {
    await this.root.getByTestId('advance-minutes').selectOption(String(minutes));
    await this.root.getByTestId('advance-clock').click();
  }
}

export class TamperPanel {
  constructor(page) {
    this.page = page;
    this.inspector = page.getByTestId('inspector');
    this.root = this.inspector.getByTestId('tamper-editor');
  }

  /** Selects the artifact's tab and opens its editor. */
  async open(artifactId) {
    await this.inspector.locator(`[data-testid="artifact-tab"][data-artifact="${artifactId}"]`).click();
    await this.inspector.locator(`[data-testid="artifact"][data-artifact="${artifactId}"]`).waitFor();
    if ((await this.root.count()) === 0) await this.inspector.getByTestId('tamper-open').click();
    await this.root.waitFor();
  }

  /** Back to the artifact's bytes as they were produced. */
  reset() {
    return this.root.getByTestId('tamper-reset').click();
  }

  async text() {
    return this.root.getByTestId('tamper-text').inputValue();
  }

  async setText(text) {
    await this.root.getByTestId('tamper-text').fill(text);
  }

  /** Edits the decoded claims of a token with `change(claims)`. */
  async editClaims(change) {
    const claims = JSON.parse(await this.text());
    change(claims);
    await this.setText(JSON.stringify(claims, null, 2));
  }

  async flip(offset) {
    await this.root.getByTestId('tamper-flip-offset').fill(String(offset));
    await this.root.getByTestId('tamper-flip').click();
  }

  keepSignature() {
    return this.root.getByTestId('tamper-keep').click();
  }

  resign() {
    return this.root.getByTestId('tamper-resign').click();
  }

  resignButton() {
    return this.root.getByTestId('tamper-resign');
  }

  /** Signs the edit with a key of the attacker's own and sends it. */
  signAsAttacker() {
    return this.root.getByTestId('tamper-attacker').click();
  }

  attackerButton() {
    return this.root.getByTestId('tamper-attacker');
  }

  async resignRefusal() {
    return (await this.root.getByTestId('resign-refused').innerText()).trim();
  }

  async error() {
    return (await this.root.getByTestId('tamper-error').innerText()).trim();
  }
}

/** The banner of edits in force, with what became of them. */
export class EditsBanner {
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('edits');
  }

  /** How many edits the page has seen accepted; 0 before the first. */
  async version() {
    if ((await this.root.count()) === 0) return 0;
    return Number(await this.root.getAttribute('data-version'));
  }

  /**
   * Waits for the outcome of an edit accepted after `since` (from
   * `version()` before the edit) to be known; returns the verdict.
   */
  async verdict(since, timeout = 90_000) {
    await this.page.waitForFunction(
      (s) => {
        const banner = document.querySelector('[data-testid="edits"]');
        if (!banner || Number(banner.getAttribute('data-version')) <= s) return false;
        const v = banner.querySelector('[data-testid="edit-verdict"]')?.getAttribute('data-verdict');
        return v === 'caught' || v === 'undetected';
      },
      since,
      { timeout },
    );
    const el = this.root.getByTestId('edit-verdict');
    return { verdict: await el.getAttribute('data-verdict'), text: (await el.innerText()).trim() };
  }

  async edits() {
    return this.root.getByTestId('edit').allInnerTexts();
  }

  undo() {
    return this.root.getByTestId('undo-edits').click();
  }
}

export class HoldingsPanel {
  constructor(page) {
    this.root = page.getByTestId('inspector').getByTestId('holdings');
  }

  /** What `actor` (its slug) holds: [{ kind, item, detail, place, changed }]. */
  async of(actor) {
    const holder = this.root.locator(`[data-testid="holder"][data-actor="${actor}"]`);
    if ((await holder.getAttribute('open')) === null) await holder.getByTestId('holder-summary').click();
    await holder.getByTestId('holding').first().waitFor();
    return holder.getByTestId('holding').evaluateAll((els) =>
      els.map((e) => ({
        kind: e.getAttribute('data-kind'),
        item: e.querySelector('[data-testid="holding-item"]')?.textContent ?? '',
        detail: e.querySelector('[data-testid="holding-detail"]')?.textContent ?? '',
        place: e.querySelector('.holding-place')?.textContent ?? '',
        changed: e.getAttribute('data-new') === 'true',
      })),
    );
  }

  async actors() {
    return this.root.getByTestId('holder').evaluateAll((els) => els.map((e) => e.getAttribute('data-actor')));
  }
}
