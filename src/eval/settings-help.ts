// The evaluation settings in words, from their one declaration (settings.ts):
// each flag's default for --help, the defaults and their sources after
// --help, and the table of defaults in docs/DESIGN.md.
import { METHOD_REGISTRY, type EvalMethod } from './methods/index.js';
import { flagOf, SETTINGS, usesSetting, type AnySetting } from './settings.js';

function formatValue(v: unknown): string {
  if (Array.isArray(v)) return v.join(', ');
  if (v === Infinity) return 'none (inf)';
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  if (typeof v === 'number' && v !== 0 && Math.abs(v) < 1e-3) return v.toExponential();
  return String(v);
}

/** The default of `d` in words: one value, or each method's. */
export function describeDefault(d: AnySetting): string {
  const def = d.default;
  switch (def.from) {
    case 'fixed':
      return formatValue(def.value);
    case 'method':
      return METHOD_REGISTRY.map((m) => `${m.name} ${formatValue(m.defaults[def.key].value)}`).join(', ');
    case 'derived':
    case 'none':
      return def.describe;
  }
}

/** The flags of `d` as a user types them (none for a setting without one). */
export function flagsOf(d: AnySetting): string[] {
  switch (d.type.kind) {
    case 'none':
      return [];
    case 'switch':
      return [flagOf(d.key)];
    case 'toggle':
      return [flagOf(d.key), `--no-${flagOf(d.key).slice(2)}`];
    case 'off-switch':
      return [`--no-${flagOf(d.key).slice(2)}`];
    default:
      return [`${flagOf(d.key)} ${d.type.metavar}`];
  }
}

/** The methods `d` changes a number of, in words. */
export function describeUsage(d: AnySetting): string {
  const users = METHOD_REGISTRY.filter((m: EvalMethod) => usesSetting(d, m)).map((m) => m.name);
  return users.length === METHOD_REGISTRY.length ? 'all' : users.join(', ');
}

/** One line per setting and where its default comes from, for `tttnn eval --help`. */
export function describeDefaults(): string {
  const lines = ["Defaults (the original's, socialfoundations/tttlm), and the methods each setting changes:"];
  for (const d of SETTINGS) {
    const def = d.default;
    if (def.from === 'method') {
      for (const m of METHOD_REGISTRY) lines.push(`  ${d.title}, ${m.name}: ${formatValue(m.defaults[def.key].value)} (${m.defaults[def.key].source})`);
    } else {
      lines.push(`  ${d.title}: ${describeDefault(d)} (${def.source}) [${describeUsage(d)}]`);
    }
  }
  const free = SETTINGS.filter((d) => d.paper !== 'pinned').map((d) => `${d.title} (${(d.paper as { free: string }).free})`);
  lines.push(`--preset paper pins every setting above but ${free.join(', ')}.`);
  return lines.join('\n');
}

const cell = (text: string): string => text.replace(/\|/g, '\\|');

/** The table of defaults in docs/DESIGN.md (between its `settings-table` markers). */
export function settingsMarkdownTable(): string {
  const rows = ['| setting | default | source (socialfoundations/tttlm) | flag | `--preset paper` | methods |', '|---|---|---|---|---|---|'];
  for (const d of SETTINGS) {
    const flags = flagsOf(d).map((f) => `\`${f}\``).join(' / ') || '—';
    const paper = d.paper === 'pinned' ? 'pinned' : `free: ${d.paper.free}`;
    const def = d.default;
    if (def.from === 'method') {
      for (const m of METHOD_REGISTRY) {
        const own = m.defaults[def.key];
        rows.push(`| ${cell(`${d.title}, ${m.name}`)} | ${cell(formatValue(own.value))} | ${cell(own.source)} | ${flags} | ${paper} | ${usesSetting(d, m) ? m.name : 'not used'} |`);
      }
    } else {
      rows.push(`| ${cell(d.title)} | ${cell(describeDefault(d))} | ${cell(def.source)} | ${flags} | ${paper} | ${cell(describeUsage(d))} |`);
    }
  }
  return rows.join('\n');
}
