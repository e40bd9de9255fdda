// Page object for the explorer: reads data-testid attributes only.

export class ExplorerPage {
  constructor(page) {
    this.page = page;
    this.root = page.getByTestId('explorer');
  }

  async goto(url) {
    await this.page.goto(url);
    await this.root.waitFor({ state: 'visible' });
  }

  async flow() {
    return this.root.getAttribute('data-flow');
  }

  steps() {
    return this.root.getByTestId('step');
  }

  step(index) {
    return this.root.locator(`[data-testid="step"][data-step="${index}"]`);
  }

  async total() {
    return this.steps().count();
  }

  /** The index of the step shown, from the diagram. */
  async current() {
    const el = this.root.locator('[data-testid="step"][data-state="current"]');
    return Number(await el.getAttribute('data-step'));
  }

  /** Waits until the shown step has been executed by the engine; returns its status. */
  async waitForStep(index, timeout = 60_000) {
    const step = this.step(index);
    await step.locator('xpath=self::*[@data-state="current"]').waitFor({ timeout });
    await this.page.waitForFunction(
      (i) => {
        const el = document.querySelector(`[data-testid="step"][data-step="${i}"]`);
        return el && el.getAttribute('data-status') !== 'pending';
      },
      index,
      { timeout },
    );
    return step.getAttribute('data-status');
  }

  /**
   * Where the diagram shows step `index`, relative to the diagram's visible
   * box: the step's arrow or mark, the actors' header, and whether the page
   * itself scrolls sideways.
   */
  async placement(index) {
    return this.page.evaluate(async (i) => {
      // After the frame in which the page scrolled the step into view.
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      const box = (el) => el.getBoundingClientRect();
      const lanes = document.querySelector('[data-testid="swimlanes"]');
      const shape = document.querySelector(`[data-testid="step"][data-step="${i}"] [data-testid="step-shape"]`);
      const heads = document.querySelector('[data-testid="lane-heads"]');
      const view = box(lanes);
      const s = box(shape);
      return {
        shapeCentreInside: s.left + s.width / 2 >= view.left && s.left + s.width / 2 <= view.right,
        shapeRowInside: s.top >= view.top && s.bottom <= view.bottom,
        headsAtTop: Math.abs(box(heads).top - view.top) <= 2,
        scrolledDown: lanes.scrollTop > 0,
        pageScrollsSideways: document.documentElement.scrollWidth > window.innerWidth,
      };
    }, index);
  }

  /**
   * The lanes as drawn once they have slid into place: for each, its name
   * as shown, its full name, whether the current step involves it, and
   * whether its head lies whole inside the diagram's visible box; and
   * whether the diagram is compact, or scrolls sideways.
   */
  async lanes() {
    return this.page.evaluate(async () => {
      const scroller = document.querySelector('[data-testid="swimlanes"]');
      // The lanes' slides and the arrow's drawing end; a pending step's
      // spinner does not.
      const ending = scroller.getAnimations({ subtree: true }).filter((a) => a.effect?.getTiming().iterations !== Infinity);
      await Promise.all(ending.map((a) => a.finished.catch(() => {})));
      const view = scroller.getBoundingClientRect();
      return {
        compact: scroller.classList.contains('compact'),
        scrollsSideways: scroller.scrollWidth > scroller.clientWidth,
        lanes: [...document.querySelectorAll('[data-testid="lane"]')].map((g) => {
          const head = g.querySelector('.lane-head').getBoundingClientRect();
          return {
            shown: g.querySelector('.lane-name').textContent,
            name: g.querySelector('title').textContent,
            involved: g.classList.contains('involved'),
            width: head.width,
            whole: head.left >= view.left - 0.5 && head.right <= view.right + 0.5,
          };
        }),
      };
    });
  }

  async forward() {
    await this.root.getByTestId('step-forward').click();
  }

  async back() {
    await this.root.getByTestId('step-back').click();
  }

  narrationTitle() {
    return this.root.getByTestId('narration-title');
  }

  narrationPhase() {
    return this.root.getByTestId('narration-phase');
  }

  narrationText() {
    return this.root.getByTestId('narration-text');
  }

  eventStatus() {
    return this.root.getByTestId('event-summary');
  }

  checks() {
    return this.root.getByTestId('check');
  }

  async checkOutcomes() {
    return this.checks().evaluateAll((els) =>
      els.map((e) => ({
        title: e.querySelector('[data-testid="check-title"]')?.textContent ?? '',
        outcome: e.getAttribute('data-outcome'),
        reason: e.querySelector('[data-testid="check-reason"]')?.textContent ?? '',
      })),
    );
  }

  artifactTabs() {
    return this.root.getByTestId('artifact-tab');
  }

  halt() {
    return this.root.getByTestId('halt');
  }

  position() {
    return this.root.getByTestId('position');
  }

  phaseButton(letter) {
    return this.root.locator(`[data-testid="phase-button"][data-phase="${letter}"]`);
  }

  poolStatus() {
    return this.root.getByTestId('pool-status');
  }

  async haltText(timeout = 90_000) {
    await this.halt().waitFor({ timeout });
    return (await this.halt().innerText()).trim();
  }

  /** The checks of the step shown, by title. */
  async check(title) {
    return (await this.checkOutcomes()).find((c) => c.title === title);
  }

  async summaryStatus() {
    return this.eventStatus().getAttribute('data-status');
  }

  async summaryText() {
    return (await this.eventStatus().innerText()).trim();
  }

  /** Jumps to a step (0-based) with the scrubber. */
  async jump(index) {
    await this.root.getByTestId('tick').nth(index).click();
    return this.waitForStep(index);
  }

  downloadRun() {
    return this.root.getByTestId('download-run');
  }
}
