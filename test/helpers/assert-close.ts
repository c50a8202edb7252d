// Elementwise comparison of number arrays with a tolerance, reporting the
// worst element so a failure says where and by how much.
import assert from 'node:assert/strict';

export function assertClose(actual: readonly number[], expected: readonly number[], atol: number, what: string, rtol = 0): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} != ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} ` +
        `(|diff| ${Math.abs((actual[worst] as number) - (expected[worst] as number))}, atol ${atol}, rtol ${rtol})`,
    );
  }
}
