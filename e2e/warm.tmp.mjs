import { launch, openPage } from './lib/harness.mjs';
import { ExplorerPage } from './pages/explorer.mjs';
const browser = await launch();
const { page } = await openPage(browser);
const explorer = new ExplorerPage(page);
for (const seed of ['a', 'b', 'c']) {
  const t0 = Date.now();
  await explorer.goto(`http://127.0.0.1:8767/?flow=hybrid-cert-sync&step=sign-in.issue-app-token&seed=${seed}`);
  await explorer.waitForStep(52, 120000);
  console.log(seed, Date.now() - t0);
}
await browser.close();
