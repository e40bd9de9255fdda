// The flows of the registry, read from its source: `model/src/flows.rs`
// lists one module per flow in REGISTRY, and each flow file names its slug.
// The end-to-end tests iterate this list instead of a copy of it, so a flow
// added to the registry is tested without editing the tests' lists.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MODEL = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'model', 'src');

function registry() {
  const source = readFileSync(join(MODEL, 'flows.rs'), 'utf8');
  const block = source.match(/pub static REGISTRY: &\[&Flow\] = &\[([\s\S]*?)\];/);
  if (!block) throw new Error('model/src/flows.rs has no REGISTRY');
  return [...block[1].matchAll(/&(\w+)::FLOW/g)].map(([, module]) => {
    const file = readFileSync(join(MODEL, 'flows', `${module}.rs`), 'utf8');
    const slug = file.match(/slug: "([a-z0-9-]+)"/);
    if (!slug) throw new Error(`model/src/flows/${module}.rs names no slug`);
    return slug[1];
  });
}

/** The slugs of every flow, in catalog order. */
export const FLOW_SLUGS = registry();
