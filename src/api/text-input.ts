// Postgres cannot store U+0000 in text or jsonb ("invalid byte sequence for encoding UTF8: 0x00"):
// an input carrying one used to reach the database and fail there as a 500. The transports refuse
// it up front as a validation error (found by tests/reliability/hostile-api.test.ts).

export const NUL_MESSAGE = 'text may not contain NUL characters (\\u0000)';

/** Whether any string in this JSON-like value (keys included) contains U+0000. Iterative: any depth. */
export function containsNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return true;
    } else if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\u0000')) return true;
        stack.push(x);
      }
    }
  }
  return false;
}
