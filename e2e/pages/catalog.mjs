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
