// Turning tokens into text as they are generated: a byte-level BPE token can
// end in the middle of a UTF-8 character (an emoji is often two or three
// tokens), so each step decodes the whole continuation and hands out only
// what is new, holding back a trailing U+FFFD until the character completes.
import type { BpeTokenizer } from './bpe-tokenizer.js';

export class TextStream {
  private readonly ids: number[] = [];
  private emitted = 0;

  constructor(private readonly tokenizer: BpeTokenizer) {}

  /** The text `id` adds (possibly empty, while a character is incomplete). */
  push(id: number): string {
    this.ids.push(id);
    const text = this.tokenizer.decode(this.ids, { skipSpecialTokens: true });
    const stable = text.endsWith('\uFFFD') ? text.slice(0, text.lastIndexOf('\uFFFD')) : text;
    if (stable.length <= this.emitted) return '';
    const delta = stable.slice(this.emitted);
    this.emitted = stable.length;
    return delta;
  }

  /** What is left once generation stops (an incomplete character comes out as U+FFFD, as decode gives it). */
  finish(): string {
    const text = this.tokenizer.decode(this.ids, { skipSpecialTokens: true });
    const delta = text.slice(this.emitted);
    this.emitted = text.length;
    return delta;
  }
}
