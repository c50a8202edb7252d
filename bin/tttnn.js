#!/usr/bin/env node
// The `tttnn` command. The TypeScript sources compile to dist/ (npm run build:ts).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('tttnn: not built yet; run `npm run setup` in the repository (see README.md)');
  process.exit(1);
}
const { run } = await import(main.href);
await run(process.argv);
