// A procedural generator of school-mathematics questions with answers, in
// the style of DeepMind's Mathematics dataset (the Pile's "DM Mathematics"):
// each document is one module's questions, "question\nanswer" per pair.
// Deterministic for a given seed.
import { seededRandom } from '../seeded-random.js';

type Random = () => number;
const int = (r: Random, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const nonzero = (r: Random, lo: number, hi: number): number => {
  for (;;) {
    const v = int(r, lo, hi);
    if (v !== 0) return v;
  }
};
const gcd = (a: number, b: number): number => (b === 0 ? Math.abs(a) : gcd(b, a % b));
const VARIABLES = 'abcdfghjklmnopqrstuvwxyz';
const variable = (r: Random): string => VARIABLES[int(r, 0, VARIABLES.length - 1)] as string;
const signed = (v: number): string => (v < 0 ? `- ${-v}` : `+ ${v}`);

/** The modules: name and a generator of one [question, answer]. */
const MODULES: [string, (r: Random) => [string, string]][] = [
  ['arithmetic__add_sub', (r) => {
    const a = int(r, -999, 999);
    const b = int(r, -999, 999);
    return r() < 0.5 ? [`What is ${a} + ${b}?`, `${a + b}`] : [`Calculate ${a} - ${b}.`, `${a - b}`];
  }],
  ['arithmetic__mul_div', (r) => {
    const a = nonzero(r, -99, 99);
    const b = nonzero(r, -99, 99);
    return r() < 0.5 ? [`Multiply ${a} and ${b}.`, `${a * b}`] : [`Divide ${a * b} by ${b}.`, `${a}`];
  }],
  ['algebra__linear_1d', (r) => {
    const x = int(r, -20, 20);
    const a = nonzero(r, -12, 12);
    const b = int(r, -50, 50);
    const v = variable(r);
    return [`Solve ${a}*${v} ${signed(b)} = ${a * x + b} for ${v}.`, `${x}`];
  }],
  ['algebra__polynomial_roots', (r) => {
    const p = int(r, -9, 9);
    const q = int(r, -9, 9);
    const v = variable(r);
    const roots = [...new Set([p, q])].sort((a, b) => a - b).join(', ');
    return [`Suppose ${v}**2 ${signed(-(p + q))}*${v} ${signed(p * q)} = 0. What is ${v}?`, roots];
  }],
  ['numbers__gcd', (r) => {
    const g = int(r, 1, 40);
    const a = g * int(r, 1, 30);
    const b = g * int(r, 1, 30);
    return [`Calculate the greatest common divisor of ${a} and ${b}.`, `${gcd(a, b)}`];
  }],
  ['numbers__is_prime', (r) => {
    const n = int(r, 2, 5000);
    let prime = true;
    for (let d = 2; d * d <= n; d++) if (n % d === 0) prime = false;
    return [`Is ${n} a prime number?`, prime ? 'True' : 'False'];
  }],
  ['numbers__place_value', (r) => {
    const n = int(r, 1000, 9999999);
    const places = ['units', 'tens', 'hundreds', 'thousands'];
    const k = int(r, 0, 3);
    return [`What is the ${places[k]} digit of ${n}?`, `${Math.floor(n / 10 ** k) % 10}`];
  }],
  ['calculus__differentiate', (r) => {
    const a = nonzero(r, -9, 9);
    const n = int(r, 2, 6);
    const b = int(r, -20, 20);
    const v = variable(r);
    return [`Differentiate ${a}*${v}**${n} ${signed(b)}*${v} wrt ${v}.`, `${a * n}*${v}${n - 1 > 1 ? `**${n - 1}` : ''} ${signed(b)}`];
  }],
  ['comparison__sort', (r) => {
    const values = Array.from({ length: int(r, 3, 5) }, () => int(r, -100, 100));
    return [`Sort ${values.join(', ')} in ascending order.`, [...values].sort((a, b) => a - b).join(', ')];
  }],
  ['measurement__conversion', (r) => {
    const units: [string, string, number][] = [['kilometers', 'meters', 1000], ['hours', 'minutes', 60], ['kilograms', 'grams', 1000], ['minutes', 'seconds', 60]];
    const [big, small, factor] = units[int(r, 0, units.length - 1)] as [string, string, number];
    const q = int(r, 1, 400) / 4;
    return [`How many ${small} are there in ${q} ${big}?`, `${q * factor}`];
  }],
  ['polynomials__evaluate', (r) => {
    const a = int(r, -5, 5);
    const b = int(r, -10, 10);
    const c = int(r, -10, 10);
    const x = int(r, -6, 6);
    const f = 'fghjk'[int(r, 0, 4)] as string;
    return [`Let ${f}(t) = ${a}*t**2 ${signed(b)}*t ${signed(c)}. What is ${f}(${x})?`, `${a * x * x + b * x + c}`];
  }],
];

/** Document `index`: 20-60 question/answer pairs of module index mod 11, seeded by the index. */
export function dmMathematicsDocument(index: number): string {
  const r = seededRandom(1216 + index);
  const [, make] = MODULES[index % MODULES.length] as [string, (r: Random) => [string, string]];
  return Array.from({ length: int(r, 20, 60) }, () => make(r).join('\n')).join('\n');
}

export const DM_MODULES = MODULES.map(([name]) => name);
