// Python's ast.literal_eval for what task templates render: a harness
// doc_to_choice template renders a Python list of strings
// ("['''{{answer}}\nIs the answer correct? yes''', ...]"), which the harness
// turns into a list with ast.literal_eval (lm_eval/api/task.py,
// ConfigurableTask.doc_to_choice). Strings (single, double, triple quoted,
// with escapes and r prefixes), integers, floats, True/False/None, lists and
// tuples; anything else is refused naming where it stops.

export type PythonLiteral = string | number | boolean | null | PythonLiteral[];

export function literalEval(source: string): PythonLiteral {
  const p = new Parser(source);
  p.space();
  const value = p.value();
  p.space();
  if (p.at < source.length) p.fail('unexpected text after the value');
  return value;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0', '\n': '' };

class Parser {
  at = 0;
  constructor(private readonly s: string) {}

  fail(why: string): never {
    throw new SyntaxError(`not a Python literal (${why} at character ${this.at}): ${JSON.stringify(this.s.slice(0, 200))}`);
  }

  space(): void {
    while (this.at < this.s.length && /\s/.test(this.s[this.at]!)) this.at++;
  }

  value(): PythonLiteral {
    const c = this.s[this.at];
    if (c === '[' || c === '(') return this.sequence(c === '[' ? ']' : ')');
    const prefix = /^[rRuU]?(?=['"])/.exec(this.s.slice(this.at));
    if (prefix) return this.string(prefix[0].toLowerCase() === 'r');
    const word = /^(True|False|None)\b/.exec(this.s.slice(this.at));
    if (word) {
      this.at += word[0].length;
      return word[0] === 'True' ? true : word[0] === 'False' ? false : null;
    }
    const num = /^[-+]?(\d[\d_]*(\.\d*)?([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)/.exec(this.s.slice(this.at));
    if (num) {
      this.at += num[0].length;
      return Number(num[0].replace(/_/g, ''));
    }
    return this.fail('expected a string, number, list or tuple');
  }

  sequence(close: string): PythonLiteral[] {
    this.at++;
    const items: PythonLiteral[] = [];
    for (;;) {
      this.space();
      if (this.s[this.at] === close) {
        this.at++;
        return items;
      }
      items.push(this.value());
      this.space();
      if (this.s[this.at] === ',') this.at++;
      else if (this.s[this.at] !== close) this.fail(`expected , or ${close}`);
    }
  }

  string(raw: boolean): string {
    if (/[rRuU]/.test(this.s[this.at]!)) this.at++;
    let out = '';
    // Adjacent literals concatenate, as in Python ('a' 'b' == 'ab').
    do {
      const q = this.s[this.at]!;
      const triple = this.s.startsWith(q.repeat(3), this.at);
      const end = triple ? q.repeat(3) : q;
      this.at += end.length;
      for (;;) {
        if (this.at >= this.s.length) this.fail('unterminated string');
        if (this.s.startsWith(end, this.at)) {
          this.at += end.length;
          break;
        }
        const c = this.s[this.at]!;
        if (c === '\n' && !triple) this.fail('newline in a single-quoted string');
        if (c === '\\' && !raw) {
          const e = this.s[this.at + 1]!;
          if (e in ESCAPES) {
            out += ESCAPES[e];
            this.at += 2;
          } else if (e === 'x' || e === 'u' || e === 'U') {
            const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
            const hex = this.s.slice(this.at + 2, this.at + 2 + len);
            if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) this.fail(`bad \\${e} escape`);
            out += String.fromCodePoint(parseInt(hex, 16));
            this.at += 2 + len;
          } else {
            out += c; // an unknown escape keeps its backslash, as Python does
            this.at++;
          }
          continue;
        }
        if (c === '\\' && raw) {
          out += c + (this.s[this.at + 1] ?? '');
          this.at += 2;
          continue;
        }
        out += c;
        this.at++;
      }
      const save = this.at;
      this.space();
      if (!/^[rRuU]?['"]/.test(this.s.slice(this.at))) {
        this.at = save;
        break;
      }
      raw = /^[rR]/.test(this.s[this.at]!);
      if (/[rRuU]/.test(this.s[this.at]!)) this.at++;
    } while (this.at < this.s.length);
    return out;
  }
}
