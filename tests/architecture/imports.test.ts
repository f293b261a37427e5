// The house rules of docs/architecture.md, checked on the import graph of every .ts file in the
// repository: modules meet only through their index.ts, a table belongs to one module, platform knows
// no domain, the emulator stands alone, transports stay thin, domain modules form no cycle, and only
// the composition root (src/composition/) wires modules together. Imports are read from the
// TypeScript compiler's syntax tree (static imports, `export ... from`, `import type`, `import('...')`
// in code and in types, `require`), one program for the whole repository.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
// The asynchronous client: the synchronous one reads its pipes' file descriptors from Node's
// child-process internals, which Bun's child processes do not have.
import { API } from 'typescript/unstable/async';
import {
  SyntaxKind,
  isCallExpression,
  isExportDeclaration,
  isExternalModuleReference,
  isIdentifier,
  isImportDeclaration,
  isImportTypeNode,
  isLiteralTypeNode,
  isNoSubstitutionTemplateLiteral,
  isStringLiteral,
  type Node,
  type SourceFile,
} from 'typescript/unstable/ast';

const ROOT = resolve(import.meta.dir, '..', '..');
const PLATFORM = ['config', 'db', 'jobs', 'google', 'quota', 'api', 'log', 'errors', 'crypto', 'context', 'metrics', 'time-zones', 'recurrence-guard'];
const DOMAIN = ['links', 'sync', 'channels', 'oncall', 'bookings', 'availability', 'fanout', 'changes'];
/** Folders of src/ that are neither platform nor domain: what each is, for the test that every folder is named. */
const OTHER = {
  composition: 'the composition root: builds the context, the routers and the admin schema from every module',
  emulator: "Google's and Slack's APIs, emulated for tests, benchmarks and development",
  cli: 'the `bun run calwatch` command line: a second entry point over the context the service opens',
  demo: 'the `bun run demo` walk-through: a client of a running service over HTTP only',
};
/** A domain module's transports: they parse, call a verb and shape the answer, nothing more. */
const TRANSPORTS = [/^src\/[^/]+\/(router|routes|webhook)\.ts$/, /^src\/[^/]+\/admin(\/.+)?\.ts$/];

/**
 * Imports that enter a module other than through its index.ts, each with its reason. An entry that
 * no longer matches an import fails the test too, so the list cannot outlive its reasons.
 */
const INSIDE: Array<{ from: string; to: string[]; why: string }> = [
  // Unit tests of a module's pure core: the functions are internal, the face needs none of them.
  { from: 'tests/availability/blocked-times.test.ts', to: ['src/availability/blocked-times.ts', 'src/availability/source-event.ts'], why: 'unit test of the pure core: Google events in, busy intervals out' },
  { from: 'tests/availability/busy-merge.test.ts', to: ['src/availability/busy.ts', 'src/availability/intervals.ts'], why: "the SQL merge checked against the JS merge it replaces" },
  { from: 'tests/availability/google-events.ts', to: ['src/availability/source-event.ts'], why: "fixtures typed as the Google events availability reads" },
  { from: 'tests/availability/intervals.test.ts', to: ['src/availability/intervals.ts'], why: 'unit test of interval merging and free slots' },
  { from: 'tests/availability/slots.test.ts', to: ['src/availability/intervals.ts', 'src/availability/slots.ts'], why: 'unit test of the slot arithmetic, against a brute force' },
  { from: 'tests/availability/recurrence-limits.test.ts', to: ['src/availability/blocked-times.ts', 'src/availability/recurrence.ts', 'src/availability/source-event.ts', 'src/sync/expand-series.ts'], why: "the bounds of both recurrence expansions, tested pure" },
  { from: 'tests/sync/google-payloads.test.ts', to: ['src/sync/expand-series.ts', 'src/sync/map-event.ts', 'src/sync/time-zone.ts'], why: 'captured payloads through the mapping and the series expansion, without a database' },
  { from: 'tests/sync/series-agreement.test.ts', to: ['src/availability/blocked-times.ts', 'src/availability/source-event.ts', 'src/sync/expand-series.ts', 'src/sync/map-event.ts'], why: "the sync's and availability's expansions compared with the emulator's, pure" },
  { from: 'tests/oncall/find-shift-for-swap.test.ts', to: ['src/oncall/find-shift-for-swap.ts'], why: "unit test of the search: swapRefusal and overlaps are its internals" },
  { from: 'tests/fanout/policy.test.ts', to: ['src/fanout/address-policy.ts', 'src/fanout/retry-schedule.ts', 'src/fanout/deliver.ts', 'src/fanout/messages.ts', 'src/fanout/ids.ts', 'src/fanout/publish.ts'], why: 'unit tests of the pure parts of fan-out' },
  { from: 'tests/emulator/quota.test.ts', to: ['src/emulator/quota.ts'], why: "the emulator's quota keeper against a brute-force model" },
  { from: 'tests/demo/demo.test.ts', to: ['src/demo/format.ts'], why: "the demo's index.ts is the program itself (it runs on import); its formatting is tested alone" },
  // Tests that drive one step of a module by hand, where the path to it would take a job's delay.
  { from: 'tests/availability/rebuild.e2e.test.ts', to: ['src/availability/rebuild-owners.ts'], why: 'starts and runs a rebuild pass by hand' },
  { from: 'tests/bookings/google-reactions.test.ts', to: ['src/bookings/reactions.ts'], why: "calls the bookings reaction with change sets written by hand" },
  { from: 'tests/channels/webhook.test.ts', to: ['src/channels/runtime.ts', 'src/channels/queries.ts'], why: "reads the channels' per-context holds; notes notifications by hand" },
  { from: 'tests/fanout/delivery.test.ts', to: ['src/fanout/publish.ts', 'src/fanout/messages.ts', 'src/fanout/unblock.ts'], why: 'hands change sets to fan-out inside a transaction as sync does, and unblocks streams by hand' },
  { from: 'tests/fanout/harness.ts', to: ['src/fanout/publish.ts', 'src/fanout/messages.ts'], why: 'hands change sets to fan-out inside a transaction as sync does' },
  { from: 'tests/fanout/safety.test.ts', to: ['src/fanout/publish.ts', 'src/fanout/messages.ts'], why: 'hands change sets to fan-out inside a transaction as sync does' },
  { from: 'tests/fanout/isolation.test.ts', to: ['src/fanout/jobs.ts'], why: 'sizes its load from the worker slots' },
  { from: 'tests/fanout/order.test.ts', to: ['src/fanout/publish.ts', 'src/fanout/messages.ts'], why: 'two transactions publishing to one calendar by hand, committing in the opposite order of their start' },
  { from: 'tests/fanout/subscriptions.test.ts', to: ['src/fanout/prune.ts'], why: 'runs the prune job by hand' },
  { from: 'tests/fanout/tls.test.ts', to: ['src/fanout/http-post.ts'], why: "the subscriber POST itself, against HTTPS receivers" },
  { from: 'tests/reliability/timeouts.test.ts', to: ['src/fanout/http-post.ts'], why: "the subscriber POST itself, against a server that never answers" },
  { from: 'tests/oncall/decline-flow.test.ts', to: ['src/oncall/swap.ts'], why: 'runs the swap pass by hand' },
  { from: 'tests/reliability/hostile-webhook.test.ts', to: ['src/channels/channel-cache.ts'], why: "the webhook's channel cache, attacked alone" },
  // Benchmarks of a module's internals: what they measure is not on its face.
  { from: 'bench/availability.ts', to: ['src/availability/apply-changes.ts', 'src/availability/blocked-times.ts', 'src/availability/busy.ts', 'src/availability/horizon.ts', 'src/availability/intervals.ts', 'src/availability/rebuild.ts', 'src/availability/store.ts'], why: "times availability's steps one by one" },
  { from: 'bench/availability-free.ts', to: ['src/availability/apply-changes.ts', 'src/availability/busy.ts', 'src/availability/free.ts'], why: 'times the busy read and the free computation apart' },
  { from: 'bench/fanout.ts', to: ['src/fanout/deliver.ts', 'src/fanout/ids.ts', 'src/fanout/publish.ts', 'src/fanout/types.ts'], why: "times fan-out's publish and send apart" },
  { from: 'bench/sync-full.ts', to: ['src/sync/map-event.ts'], why: 'seeds the mirror with rows mapped as the sync maps them' },
];

/** Imports of a table from outside its module, each with its reason (checked for staleness too). */
const TABLES: Array<{ from: string; to: string[]; why: string }> = [
  { from: 'bench/availability.ts', to: ['schema/sync.ts'], why: 'seeds the mirror directly, at sizes the emulator would take minutes to sync' },
  { from: 'bench/sync-full.ts', to: ['schema/sync.ts'], why: 'copies the mirror rows in (COPY) to time the parts apart' },
];

/** Imports whose module is computed, not written: the graph cannot follow them, so each says why. */
const COMPUTED: Array<{ from: string; why: string }> = [
  { from: 'bench/webhook.ts', why: 'loads the service from another checkout (the baseline commit), named at run time' },
];

/** Who may import the composition root besides tests and benchmarks. */
const COMPOSITION_USERS: Array<{ from: string; why: string }> = [
  { from: 'src/cli/index.ts', why: 'the command line opens the same context as the service (openContext)' },
];

interface Edge {
  from: string; // path relative to ROOT
  to: string | undefined; // resolved path relative to ROOT, the bare package name, or undefined when computed
  spec: string; // as written (the expression's text when computed)
  line: number;
}

const edges: Edge[] = [];
const walked: string[] = [];
let api: API | undefined;

/** `from:line -> spec`, what a breach prints: the place a reader opens. */
const show = (e: Edge) => `${e.from}:${e.line} -> ${e.spec}`;
const moduleOf = (path: string | undefined) => path?.match(/^src\/([^/]+)\//)?.[1];
const isFace = (path: string) => /^src\/[^/]+\/index\.ts$/.test(path);
const allowed = (list: Array<{ from: string; to: string[] }>, e: Edge) => list.some((a) => a.from === e.from && a.to.includes(e.to!));
/** Allowances that match no import any more: `from -> to` pairs to delete. */
const unused = (list: Array<{ from: string; to: string[] }>, found: Edge[]) =>
  list.flatMap((a) => a.to.filter((to) => !found.some((e) => e.from === a.from && e.to === to)).map((to) => `${a.from} -> ${to}`));
const isTestOrBench = (path: string) => path.startsWith('tests/') || path.startsWith('bench/');

/** The module names one file imports, as written (a computed one as its expression's text). */
function importsOf(file: SourceFile) {
  const from = relative(ROOT, file.fileName);
  const add = (specifier: Node | undefined) => {
    if (!specifier) return;
    const line = file.getLineAndCharacterOfPosition(specifier.end).line + 1; // a node's pos includes the trivia before it
    if (isStringLiteral(specifier) || isNoSubstitutionTemplateLiteral(specifier)) {
      const spec = specifier.text;
      const to = spec.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(from), spec)) : spec;
      edges.push({ from, to, spec, line });
    } else {
      edges.push({ from, to: undefined, spec: file.text.slice(specifier.pos, specifier.end).trim(), line });
    }
  };
  const visit = (node: Node): void => {
    if (isImportDeclaration(node) || isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (isExternalModuleReference(node)) add(node.expression); // import x = require('...')
    else if (isImportTypeNode(node)) add(isLiteralTypeNode(node.argument) ? node.argument.literal : node.argument); // import('...').T
    else if (isCallExpression(node)) {
      const callee = node.expression;
      if (callee.kind === SyntaxKind.ImportKeyword || (isIdentifier(callee) && callee.text === 'require')) add(node.arguments[0]);
    }
    node.forEachChild(visit);
  };
  file.forEachChild(visit);
  return from;
}

beforeAll(async () => {
  // The project as tsconfig.json includes it, read for its syntax only: without resolving imports
  // (no walk through node_modules) and without type packages, which keeps the program to our files.
  const config = resolve(ROOT, 'tsconfig.architecture.json'); // not on disk: served by readFile below
  api = new API({
    cwd: ROOT,
    fs: {
      readFile: (f) => (f === config ? JSON.stringify({ extends: './tsconfig.json', compilerOptions: { noResolve: true, types: [] } }) : undefined),
      fileExists: (f) => (f === config ? true : undefined),
    },
  });
  const snapshot = await api.updateSnapshot({ openProjects: [config] });
  const program = snapshot.getProjects()[0]!.program;
  const names = (await program.getSourceFileNames()).filter((f) => f.startsWith(ROOT + '/') && !f.includes('/node_modules/'));
  for (const file of await Promise.all(names.map((f) => program.getSourceFile(f)))) walked.push(importsOf(file!));
}, 60_000);

afterAll(async () => {
  await api?.close();
});

describe('architecture', () => {
  test('every .ts file in the repository is read (tsconfig.json includes them all)', async () => {
    const listed = (await Bun.$`git ls-files -- '*.ts'`.cwd(ROOT).text()).split('\n').filter(Boolean);
    expect(listed.length).toBeGreaterThan(300);
    expect(listed.filter((f) => !walked.includes(f))).toEqual([]);
    expect(walked.length).toBeGreaterThanOrEqual(listed.length);
  });

  test('every folder of src/ is a platform, domain or named module', () => {
    const folders = new Set(walked.map(moduleOf).filter((m) => m !== undefined));
    const known = new Set([...PLATFORM, ...DOMAIN, ...Object.keys(OTHER)]);
    expect([...folders].filter((m) => !known.has(m)).sort()).toEqual([]);
    expect([...known].filter((m) => !folders.has(m)).sort()).toEqual([]);
    expect(walked.filter((f) => f.startsWith('src/') && !moduleOf(f))).toEqual([]); // nothing at src/ root
  });

  test('every relative import names a file that exists, and every module is named by a literal', () => {
    expect(edges.filter((e) => e.to !== undefined && e.spec.startsWith('.') && !existsSync(resolve(ROOT, e.to))).map(show)).toEqual([]);
    const computed = edges.filter((e) => e.to === undefined);
    expect(computed.filter((e) => !COMPUTED.some((c) => c.from === e.from)).map(show)).toEqual([]);
    expect(COMPUTED.filter((c) => !computed.some((e) => e.from === c.from))).toEqual([]);
  });

  test('a module is entered only through its index.ts (from src/, schema/, tests/, bench/ alike)', () => {
    const inside = edges.filter((e) => {
      const to = moduleOf(e.to);
      if (!to || to === 'composition' || moduleOf(e.from) === to) return false;
      return !isFace(e.to!);
    });
    expect(inside.filter((e) => !allowed(INSIDE, e)).map(show)).toEqual([]);
    expect(unused(INSIDE, inside)).toEqual([]);
  });

  test('only tests, benchmarks and the command line import the composition root', () => {
    const breaches = edges.filter(
      (e) => moduleOf(e.to) === 'composition' && moduleOf(e.from) !== 'composition' && !isTestOrBench(e.from),
    );
    expect(breaches.filter((e) => !COMPOSITION_USERS.some((u) => u.from === e.from)).map(show)).toEqual([]);
    expect(COMPOSITION_USERS.filter((u) => !breaches.some((e) => e.from === u.from))).toEqual([]);
  });

  test('a table file is imported only by its own module (and by other table files for foreign keys)', () => {
    const breaches = edges.filter((e) => {
      const m = e.to?.match(/^schema\/([^/.]+)\.ts$/);
      if (!m) return false;
      if (e.from.startsWith('schema/')) return false;
      return moduleOf(e.from) !== m[1];
    });
    expect(breaches.filter((e) => !allowed(TABLES, e)).map(show)).toEqual([]);
    expect(unused(TABLES, breaches)).toEqual([]);
  });

  test('platform modules import no domain module, nor the composition root', () => {
    const breaches = edges.filter(
      (e) => PLATFORM.includes(moduleOf(e.from) ?? '') && [...DOMAIN, 'composition'].includes(moduleOf(e.to) ?? ''),
    );
    expect(breaches.map(show)).toEqual([]);
  });

  test('the emulator imports nothing from the rest of calwatch, and only the composition root, tests and benchmarks import it', () => {
    const ours = (path: string | undefined) => !!path && (path.startsWith('src/') || path.startsWith('schema/'));
    const out = edges.filter((e) => moduleOf(e.from) === 'emulator' && ours(e.to) && moduleOf(e.to) !== 'emulator');
    expect(out.map(show)).toEqual([]);
    const users = edges.filter(
      (e) => moduleOf(e.to) === 'emulator' && !['emulator', 'composition'].includes(moduleOf(e.from) ?? '') && !isTestOrBench(e.from),
    );
    expect(users.map(show)).toEqual([]);
  });

  test('transports import neither drizzle, tables nor googleapis (and every transport pattern matches a file)', () => {
    const isTransport = (f: string) => DOMAIN.includes(moduleOf(f) ?? '') && TRANSPORTS.some((t) => t.test(f));
    const breaches = edges.filter(
      (e) => isTransport(e.from) && !!e.to && (e.to.startsWith('drizzle-orm') || e.to.startsWith('schema/') || e.to.startsWith('googleapis')),
    );
    expect(breaches.map(show)).toEqual([]);
    expect(TRANSPORTS.filter((t) => !walked.some((f) => t.test(f))).map(String)).toEqual([]);
  });

  test("admin types call the module's verbs, never its queries", () => {
    const breaches = edges.filter((e) => /^src\/[^/]+\/admin\/[^/]+\.ts$/.test(e.from) && !!e.to && /\/(admin-)?queries(\.ts)?$/.test(e.to));
    expect(breaches.map(show)).toEqual([]);
  });

  test('domain modules form no cycle', () => {
    const graph = new Map<string, Set<string>>(DOMAIN.map((d) => [d, new Set<string>()]));
    for (const e of edges) {
      const from = moduleOf(e.from);
      const to = moduleOf(e.to);
      if (from && to && from !== to && DOMAIN.includes(from) && DOMAIN.includes(to)) graph.get(from)!.add(to);
    }
    const cycles = new Set<string>();
    const visit = (node: string, path: string[]) => {
      if (path.includes(node)) {
        const cycle = path.slice(path.indexOf(node));
        const first = cycle.indexOf([...cycle].sort()[0]!); // each cycle once, from its first name
        cycles.add([...cycle.slice(first), ...cycle.slice(0, first), cycle[first]].join(' -> '));
        return;
      }
      for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    };
    for (const d of DOMAIN) visit(d, []);
    expect([...cycles]).toEqual([]);
  });
});
