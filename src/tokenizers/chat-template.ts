// A tokenizer directory's chat template: the Jinja text Hugging Face's
// apply_chat_template renders (chat_template.jinja, which transformers >= 4.43
// writes, else tokenizer_config.json's "chat_template": a string, or a list
// of {name, template} of which "default" is used), rendered with
// @huggingface/jinja (transformers.js's port of the subset of Jinja that
// templates use) with the variables apply_chat_template passes: messages,
// add_generation_prompt, and the special tokens as text.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';

export interface ChatMessage {
  role: string;
  content: string;
}

export class ChatTemplate {
  private readonly template: Template;

  private constructor(
    readonly source: string,
    text: string,
    private readonly specialTokens: Record<string, string>,
  ) {
    try {
      this.template = new Template(text);
    } catch (error) {
      throw new Error(`${source}: the chat template does not parse: ${(error as Error).message}`);
    }
  }

  /** The template of the tokenizer in `dir`, or undefined when it has none. */
  static load(dir: string): ChatTemplate | undefined {
    const configPath = join(dir, 'tokenizer_config.json');
    const config = existsSync(configPath) ? (JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>) : {};
    const tokens: Record<string, string> = {};
    for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token']) {
      const value = config[key];
      const text = typeof value === 'string' ? value : typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string' ? (value as { content: string }).content : undefined;
      if (text !== undefined) tokens[key] = text;
    }
    const jinjaPath = join(dir, 'chat_template.jinja');
    if (existsSync(jinjaPath)) return new ChatTemplate(jinjaPath, readFileSync(jinjaPath, 'utf8'), tokens);
    const raw = config['chat_template'];
    if (typeof raw === 'string') return new ChatTemplate(`${configPath} chat_template`, raw, tokens);
    if (Array.isArray(raw)) {
      const named = raw.find((t: unknown) => (t as { name?: unknown }).name === 'default') as { template?: unknown } | undefined;
      if (typeof named?.template === 'string') return new ChatTemplate(`${configPath} chat_template "default"`, named.template, tokens);
    }
    return undefined;
  }

  /** The prompt text for `messages`, ending where the assistant's answer begins. */
  render(messages: readonly ChatMessage[]): string {
    try {
      return this.template.render({ messages, add_generation_prompt: true, ...this.specialTokens });
    } catch (error) {
      throw new Error(`${this.source}: rendering the chat template failed: ${(error as Error).message}`);
    }
  }
}
