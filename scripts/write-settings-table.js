// Rewrites the table of evaluation defaults in docs/DESIGN.md from their one
// declaration (src/eval/settings.ts), between the settings-table markers.
// Run after `npm run build:ts`: `npm run docs:settings`.
import { readFileSync, writeFileSync } from 'node:fs';
import { settingsMarkdownTable } from '../dist/src/eval/settings-help.js';

const path = new URL('../docs/DESIGN.md', import.meta.url);
const design = readFileSync(path, 'utf8');
const pattern = /(<!-- settings-table:start -->\n)[\s\S]*?(<!-- settings-table:end -->)/;
if (!pattern.test(design)) throw new Error('docs/DESIGN.md has no settings-table markers');
writeFileSync(path, design.replace(pattern, (_, start, end) => `${start}${settingsMarkdownTable()}\n${end}`));
console.log('docs/DESIGN.md: table of defaults rewritten');
