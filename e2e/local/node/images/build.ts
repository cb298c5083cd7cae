#!/usr/bin/env node
// Builds the images the real nodes import into the image cache, unless they are there already:
//   node e2e/local/node/images/build.ts
// `.ci/install` runs it, so that no test run pays for the product image's build.
import { pauseImage } from "./pause.ts";
import { productImage } from "./product.ts";

const log = (line: string) => process.stderr.write(`images: ${line}\n`);
try {
  const pause = pauseImage(log);
  log(`${pause.name}: ${pause.tarball}`);
  const product = await productImage(log);
  log(`${product.name}: ${product.tarball}`);
} catch (err) {
  log((err as Error).message);
  process.exit(1);
}
