import { launch, openPage } from './lib/harness.mjs';
import { writeFileSync } from 'node:fs';
const browser = await launch();
const { page } = await openPage(browser);
await browser.startTracing(page, { categories: ['devtools.timeline', 'v8', 'toplevel', 'disabled-by-default-devtools.timeline'] });
await page.goto('http://127.0.0.1:8767/' + (process.argv[2] || ''));
await page.waitForTimeout(3000);
writeFileSync('/tmp/wa/trace.json', await browser.stopTracing());
await browser.close();
