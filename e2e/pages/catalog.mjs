// Page object for the catalog: reads data-testid attributes only.

export class CatalogPage {
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('catalog');
  }

  async goto(url) {
    await this.page.goto(url);
    await this.root.waitFor({ state: 'visible' });
  }

  groups() {
    return this.root.getByTestId('catalog-group');
  }

  cards() {
    return this.root.getByTestId('flow-card');
  }

  card(slug) {
    return this.root.locator(`[data-testid="flow-card"][data-flow="${slug}"]`);
  }

  /** Everything a card tells a reader, as plain data. */
  async flows() {
    const cards = await this.cards().all();
    return Promise.all(
      cards.map(async (card) => ({
        slug: await card.getAttribute('data-flow'),
        deployment: await card.locator('xpath=ancestor::*[@data-testid="catalog-group"]').getAttribute('data-deployment'),
        title: (await card.getByTestId('flow-title').innerText()).trim(),
        trust: (await card.getByTestId('flow-trust').innerText()).trim(),
        signIn: (await card.getByTestId('flow-sign-in').innerText()).trim(),
        phases: (await card.getByTestId('flow-phases').innerText()).trim(),
        summary: (await card.getByTestId('flow-summary').innerText()).trim(),
      })),
    );
  }
}

/** "Inspect your own value", below the catalog. */
export class InspectPanel {
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('inspect');
  }

  /** Pastes `text` and asks for it to be read; waits for the answer. */
  async paste(text) {
    await this.root.getByTestId('inspect-input').fill(text);
    await this.root.getByTestId('inspect-run').click();
    return this.answer();
  }

  /** Chooses a file, as a person would with the file picker. */
  async choose(name, buffer) {
    await this.root.getByTestId('inspect-file').setInputFiles({ name, mimeType: 'application/octet-stream', buffer });
    return this.answer();
  }

  /** What the page answered: the kind and checks, or the error. */
  async answer() {
    const result = this.root.locator('[data-testid="inspection"], [data-testid="inspect-error"]');
    await result.first().waitFor({ state: 'visible', timeout: 30_000 });
    if (await this.root.getByTestId('inspect-error').count()) {
      return { error: await this.root.getByTestId('inspect-error').innerText() };
    }
    const inspection = this.root.getByTestId('inspection');
    const checks = await inspection.getByTestId('check').evaluateAll((rows) =>
      rows.map((r) => ({ title: r.querySelector('[data-testid="check-title"]').textContent, outcome: r.dataset.outcome })),
    );
    const fields = await inspection.getByTestId('field').evaluateAll((rows) => rows.map((r) => r.dataset.name));
    const unreadable = inspection.getByTestId('unreadable');
    return {
      kind: await inspection.getAttribute('data-kind'),
      readAs: await inspection.getByTestId('inspect-read-as').innerText(),
      checks,
      fields,
      unreadable: (await unreadable.count()) ? await unreadable.innerText() : undefined,
    };
  }
}
