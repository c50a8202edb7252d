// The demo's worked example takes a test document's first sentence as its
// prompt: a real sentence (not a heading), bounded so that prompt and
// continuation fit the tiny GPT's context; and the report renders the
// stored example as HTML and Markdown, escaped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstSentence, type GenerationExample } from '../../src/eval/generation-example.js';
import { compactLineBreaks, generationExampleHtml, generationExampleMarkdown } from '../../src/report/generation-example.js';

test('firstSentence: up to the first sentence end or line break, skipping short headings, cut at a word', () => {
  assert.equal(firstSentence('\n  The parser reads JSON. It then writes YAML.'), 'The parser reads JSON.');
  assert.equal(firstSentence('# left-pad\n\nPads a string on the left with spaces or zeros.\nUsage: ...'), '# left-pad\n\nPads a string on the left with spaces or zeros.');
  assert.equal(firstSentence('version 1.2.3 of the library is here! Enjoy it.'), 'version 1.2.3 of the library is here!');
  assert.equal(firstSentence('no end at all'), 'no end at all');
  const long = firstSentence('word '.repeat(100), 40);
  assert.ok(long.length <= 40 && !long.endsWith(' ') && long.startsWith('word word'), long);
});

test('the report section shows the prompt, both continuations and the neighbours, escaped', () => {
  const example: GenerationExample = {
    document: { task: 'npm', id: 7 }, prompt: 'if (a < b)', prompt_tokens: 5, before: ' return `x`;', after: ' { <b>', neighbors: [{ id: 12, distance: 0.5, first_words: 'const a = 1' }],
    partial: false, train_losses: [2.25], seconds: { retrieval: 0.01, training: 0.2, generation_before: 0.1, generation_after: 0.1 }, max_new_tokens: 40, greedy: true, seed: 0, num_neighbors: 1, learning_rate: 3e-4,
  };
  const html = generationExampleHtml(example);
  assert.match(html, /<h2 id="generation-example">Generation before and after TTT-NN<\/h2>/);
  assert.ok(html.includes('<b>if (a &lt; b)</b> { &lt;b&gt;</pre>'), html);
  assert.ok(html.includes('<td>12</td><td>0.5000</td><td>2.2500</td><td>const a = 1</td>'), html);
  const md = generationExampleMarkdown(example);
  assert.ok(md.includes('```\nif (a < b)⟨ return `x`;⟩\n```'), md);
  assert.match(md, /test document 7 \(npm\)/);
});

test('runs of three or more line breaks are counted, shorter ones kept', () => {
  assert.equal(compactLineBreaks('a\n\nb\n\n\n\nc\n'), 'a\n\nb\n[4 line breaks]\nc\n');
});
