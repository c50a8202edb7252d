// The registry of evaluation methods, in the report's order. A new method is
// a file beside this one exporting an EvalMethod, and one entry here.
import { context } from './context.js';
import { dynamic } from './dynamic.js';
import { interpolation } from './interpolation.js';
import type { EvalMethod } from './method.js';
import { random } from './random.js';
import { ttt } from './ttt.js';

export const METHOD_REGISTRY = [ttt, random, context, interpolation, dynamic] as const;

/** A method's name: `ttt`, `random`, `context`, `interpolation`, `dynamic`. */
export type Method = (typeof METHOD_REGISTRY)[number]['name'];

export const METHODS: readonly Method[] = METHOD_REGISTRY.map((m) => m.name);

/** The method called `name`, or undefined (a results directory of an unknown method). */
export function findMethod(name: string): EvalMethod | undefined {
  return METHOD_REGISTRY.find((m) => m.name === name);
}

/** The method called `name`; an error listing the methods when there is none. */
export function methodNamed(name: string): EvalMethod {
  const method = findMethod(name);
  if (!method) throw new Error(`unknown method ${JSON.stringify(name)} (methods: ${METHODS.join(', ')})`);
  return method;
}

/** The method whose report verdict is 'subject': TTT-NN. */
export const SUBJECT: EvalMethod = METHOD_REGISTRY.find((m) => m.report.verdict === 'subject') as EvalMethod;

export type { EvalMethod, TrainingMethod, ScoringMethod, CurveKind, MethodDefaults, Sourced } from './method.js';
