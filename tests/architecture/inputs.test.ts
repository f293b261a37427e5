// The input primitives (external owner ids, calendar ids, our UUIDs, instants, time zones, emails,
// URLs) are declared once, in src/api/inputs.ts: a router or input schema that declared its own
// would answer the same bad value differently from the others.
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dir, '..', '..');
const PRIMITIVES = 'src/api/inputs.ts';

// Job payloads are written by calwatch itself, not by a caller; the emulator stands alone.
const OUT_OF_SCOPE = [/^src\/emulator\//, /^src\/[^/]+\/jobs\.ts$/];

/**
 * Files still declaring their own rule, each to move onto the primitives; the test fails once one
 * no longer does, so that the list only shrinks.
 */
const PENDING = new Set(['src/oncall/admin/swap.ts', 'src/fanout/admin/uuid-arg.ts']);

const PRIMITIVE_NAMES = ['ExternalOwnerId', 'CalendarId', 'GoogleEventId', 'BookingId', 'SubscriptionId', 'OncallGroupId', 'ShiftId', 'Instant', 'InstantDate', 'TimeZone', 'Email', 'Url'];
const FIELDS = ['externalOwnerId', 'externalOwnerIds', 'expectedExternalOwnerId', 'calendarId', 'calendarIds', 'googleEventId', 'timeZone', 'email', 'url', 'returnTo', 'redirectUri'];

const RULES: Array<[string, RegExp]> = [
  ['a UUID rule', /\bz\s*\.\s*uuid\s*\(|\.uuid\s*\(\s*\)/],
  ['an instant rule', /\bz\s*\.\s*iso\s*\.|\.datetime\s*\(/],
  ['an email rule', /\bz\s*\.\s*email\s*\(|\.email\s*\(\s*\)/],
  // a list or record of primitives (`z.array(ExternalOwnerId)`) is composition, not a rule
  ['a primitive field declared with zod', new RegExp(`\\b(${FIELDS.join('|')})\\s*:\\s*z\\s*\\.(?!\\s*(array|record)\\b)`)],
  ['a primitive redeclared', new RegExp(`\\b(const|let|var)\\s+(${PRIMITIVE_NAMES.join('|')})\\s*=`)],
];

function breaches(): Array<{ file: string; line: number; rule: string; text: string }> {
  const found: Array<{ file: string; line: number; rule: string; text: string }> = [];
  for (const file of new Bun.Glob('src/**/*.ts').scanSync({ cwd: ROOT })) {
    if (file === PRIMITIVES || OUT_OF_SCOPE.some((re) => re.test(file))) continue;
    readFileSync(resolve(ROOT, file), 'utf8')
      .split('\n')
      .forEach((text, i) => {
        for (const [rule, re] of RULES) if (re.test(text)) found.push({ file, line: i + 1, rule, text: text.trim() });
      });
  }
  return found;
}

describe('input primitives', () => {
  const found = breaches();

  test('no router or input schema declares a primitive of its own', () => {
    expect(found.filter((b) => !PENDING.has(b.file))).toEqual([]);
  });

  test('every file listed as pending still needs to be', () => {
    const stillPending = new Set(found.map((b) => b.file));
    expect([...PENDING].filter((f) => !stillPending.has(f))).toEqual([]);
  });

  test('the check sees a redeclaration (it reads what it should)', () => {
    const sample = ["const ExternalOwnerId = z.string().min(1).max(256);", "  externalOwnerId: z.string().trim(),", "id: z.uuid()", "from: z.iso.datetime({ offset: true })", "email: z.string().email()"];
    expect(sample.map((text) => RULES.some(([, re]) => re.test(text)))).toEqual([true, true, true, true, true]);
    for (const text of ['externalOwnerId: ExternalOwnerId.optional(),', 'externalOwnerIds: z.array(ExternalOwnerId).min(1),']) {
      expect(RULES.some(([, re]) => re.test(text))).toBe(false);
    }
  });
});
