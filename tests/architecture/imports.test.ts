// The house rules of CONVENTIONS.md, checked on the import graph: modules meet only through their
// index.ts, a table belongs to one module, platform knows no domain, the emulator stands alone,
// transports stay thin, and domain modules form no cycle.
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dir, '..', '..');
const PLATFORM = ['config', 'db', 'jobs', 'google', 'quota', 'api', 'log', 'errors', 'crypto', 'context', 'metrics', 'time-zones', 'recurrence-guard'];
const DOMAIN = ['links', 'sync', 'channels', 'oncall', 'bookings', 'availability', 'fanout'];
const TRANSPORT_FILES = /\/(router|admin|routes|webhook|oauth-routes|link-events-route)\.ts$/;

interface Edge {
  from: string; // path relative to ROOT
  to: string; // resolved path relative to ROOT, or the bare package name
}

function sourceFiles(): string[] {
  const files: string[] = [];
  for (const pattern of ['src/**/*.ts', 'schema/*.ts']) {
    for (const f of new Bun.Glob(pattern).scanSync({ cwd: ROOT })) files.push(f);
  }
  return files;
}

function imports(file: string): Edge[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const edges: Edge[] = [];
  const re = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;
  for (const m of text.matchAll(re)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    if (spec.startsWith('.')) edges.push({ from: file, to: relative(ROOT, resolve(ROOT, dirname(file), spec)) });
    else edges.push({ from: file, to: spec });
  }
  return edges;
}

const moduleOf = (path: string) => path.match(/^src\/([^/]+)\//)?.[1];
const edges = sourceFiles().flatMap(imports);

describe('architecture', () => {
  test('a module is entered only through its index.ts', () => {
    const breaches = edges.filter((e) => {
      const from = moduleOf(e.from);
      const to = moduleOf(e.to);
      if (!to || !from || from === to || from === 'composition' || to === 'composition') return false; // the composition root, as the files at src/ root were
      return !/^src\/[^/]+\/index(\.ts)?$/.test(e.to);
    });
    expect(breaches).toEqual([]);
  });

  test('a table file is imported only by its own module (and by other table files for foreign keys)', () => {
    const breaches = edges.filter((e) => {
      const m = e.to.match(/^schema\/([^/.]+)(\.ts)?$/);
      if (!m) return false;
      if (e.from.startsWith('schema/')) return false;
      return moduleOf(e.from) !== m[1];
    });
    expect(breaches).toEqual([]);
  });

  test('platform modules import no domain module', () => {
    const breaches = edges.filter((e) => PLATFORM.includes(moduleOf(e.from) ?? '') && DOMAIN.includes(moduleOf(e.to) ?? ''));
    expect(breaches).toEqual([]);
  });

  test('the emulator imports nothing from the rest of calwatch', () => {
    const breaches = edges.filter(
      (e) => moduleOf(e.from) === 'emulator' && (e.to.startsWith('src/') || e.to.startsWith('schema/')) && moduleOf(e.to) !== 'emulator',
    );
    expect(breaches).toEqual([]);
  });

  test('transports import neither drizzle, tables nor googleapis', () => {
    const breaches = edges.filter(
      (e) =>
        DOMAIN.includes(moduleOf(e.from) ?? '') &&
        TRANSPORT_FILES.test(e.from) &&
        (e.to.startsWith('drizzle-orm') || e.to.startsWith('schema/') || e.to.startsWith('googleapis')),
    );
    expect(breaches).toEqual([]);
  });

  test('domain modules form no cycle', () => {
    const graph = new Map<string, Set<string>>(DOMAIN.map((d) => [d, new Set<string>()]));
    for (const e of edges) {
      const from = moduleOf(e.from);
      const to = moduleOf(e.to);
      if (from && to && from !== to && DOMAIN.includes(from) && DOMAIN.includes(to)) graph.get(from)!.add(to);
    }
    const cycles: string[] = [];
    const visit = (node: string, path: string[]) => {
      if (path.includes(node)) {
        cycles.push([...path.slice(path.indexOf(node)), node].join(' -> '));
        return;
      }
      for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    };
    for (const d of DOMAIN) visit(d, []);
    expect(cycles).toEqual([]);
  });
});
