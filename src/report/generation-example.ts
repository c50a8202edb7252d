// The report's "Generation before and after TTT-NN" section: the demo's
// worked example (generation-example.json beside the results), as HTML and
// as Markdown (summary.md, and the demo's last lines on the terminal). The
// tables show numbers; this shows what they mean for the text.
import type { GenerationExample } from '../eval/generation-example.js';
import { escapeHtml, toHtml, toMarkdown, type Table } from './tables.js';

export const GENERATION_EXAMPLE_HEADING = 'Generation before and after TTT-NN';

function description(e: GenerationExample): string {
  return (
    `The first sentence of test document ${e.document.id} (${e.document.task}), continued greedily for at most ${e.max_new_tokens} tokens ` +
    `before and after test-time training on its ${e.neighbors.length} nearest neighbours (learning rate ${e.learning_rate}), ` +
    `the same code as \`tttnn generate\`; the weights are restored afterwards.${e.partial ? ' Retrieval was partial: a slice of the index did not answer.' : ''}`
  );
}

/**
 * A small or briefly trained model often continues with dozens of line
 * breaks; shown as they are, they push everything else off the screen. Runs
 * of three or more are shown as "[n line breaks]" (the JSON keeps the text).
 */
export function compactLineBreaks(text: string): string {
  return text.replace(/\n{3,}/g, (run) => `\n[${run.length} line breaks]\n`);
}

function neighborsTable(e: GenerationExample): Table {
  return {
    title: 'Neighbours trained on',
    header: ['#', 'id', 'distance', 'training loss', 'first words'],
    rows: e.neighbors.map((n, i) => [String(i + 1), String(n.id), n.distance.toFixed(4), e.train_losses[i] === undefined ? '' : e.train_losses[i].toFixed(4), n.first_words]),
  };
}

const seconds = (e: GenerationExample): string =>
  `Seconds: retrieval ${e.seconds.retrieval.toFixed(3)}, training ${e.seconds.training.toFixed(3)}, generation ${e.seconds.generation_before.toFixed(3)} before + ${e.seconds.generation_after.toFixed(3)} after.`;

export function generationExampleHtml(e: GenerationExample): string {
  const block = (label: string, continuation: string): string =>
    `<h3>${escapeHtml(label)}</h3>\n<pre class="generation"><b>${escapeHtml(e.prompt)}</b>${escapeHtml(compactLineBreaks(continuation))}</pre>`;
  return [
    `<h2 id="generation-example">${escapeHtml(GENERATION_EXAMPLE_HEADING)}</h2>`,
    `<p class="note">${escapeHtml(description(e))} The prompt is in bold; runs of line breaks are counted, as [n line breaks].</p>`,
    block('Before TTT-NN', e.before),
    block('After TTT-NN', e.after),
    toHtml(neighborsTable(e)),
    `<p class="note">${escapeHtml(seconds(e))}</p>`,
  ].join('\n');
}

/** A continuation as a Markdown code block (a fence longer than any run of backticks in the text). */
function fenced(prompt: string, continuation: string): string {
  const fence = '`'.repeat(Math.max(3, ...[...`${prompt}${continuation}`.matchAll(/`+/g)].map((m) => m[0].length + 1)));
  return `${fence}\n${prompt}⟨${compactLineBreaks(continuation)}⟩\n${fence}`;
}

export function generationExampleMarkdown(e: GenerationExample): string {
  return [
    `### ${GENERATION_EXAMPLE_HEADING}`,
    '',
    `${description(e)} The continuation is between ⟨ ⟩; runs of line breaks are counted, as [n line breaks].`,
    '',
    '**Before TTT-NN**',
    '',
    fenced(e.prompt, e.before),
    '',
    '**After TTT-NN**',
    '',
    fenced(e.prompt, e.after),
    '',
    toMarkdown(neighborsTable(e)),
    '',
    seconds(e),
  ].join('\n');
}
