// The image's install stage, run for real: a directory holding exactly the files the Dockerfile's
// first stage copies, and the stage's own `bun install` line. A file the install needs but the
// Dockerfile forgets (patches/ for the postgres.js fix) fails here instead of in a release build.
import { describe, expect, test } from 'bun:test';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const root = join(import.meta.dir, '..', '..');
const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');

interface Stage {
  copies: Array<{ from?: string; sources: string[]; dest: string }>;
  runs: string[];
  cmd?: string[];
}

/** The stages of the Dockerfile: its COPY and RUN instructions (continuation lines joined). */
function stages(text: string): Stage[] {
  const out: Stage[] = [];
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const line of lines) {
    const [instruction, ...rest] = line.split(/\s+/);
    const op = instruction!.toUpperCase();
    if (op === 'FROM') out.push({ copies: [], runs: [] });
    else if (op === 'COPY') {
      const from = rest[0]?.startsWith('--from=') ? rest.shift()!.slice('--from='.length) : undefined;
      const dest = rest.pop()!;
      out.at(-1)!.copies.push({ from, sources: rest, dest });
    } else if (op === 'RUN') out.at(-1)!.runs.push(rest.join(' '));
    else if (op === 'CMD' && rest[0]?.startsWith('[')) out.at(-1)!.cmd = JSON.parse(rest.join(' '));
  }
  return out;
}

/** Where Docker's COPY puts `source`: a directory's contents go into `dest`; a file goes into `dest`
 *  when it ends with "/", else becomes `dest`. */
function copyTarget(context: string, source: string, dest: string): string {
  if (statSync(join(root, source)).isDirectory()) return join(context, dest);
  return dest.endsWith('/') ? join(context, dest, basename(source)) : join(context, dest);
}

describe('Dockerfile', () => {
  const [deps, runtime] = stages(dockerfile);

  test('has an install stage and a runtime stage', () => {
    expect(deps).toBeDefined();
    expect(runtime).toBeDefined();
    expect(deps!.runs.some((r) => r.startsWith('bun install'))).toBe(true);
  });

  test('every file it copies from the build context exists', () => {
    for (const stage of [deps!, runtime!]) {
      for (const copy of stage.copies.filter((c) => !c.from)) {
        for (const source of copy.sources) expect({ source, exists: statSync(join(root, source), { throwIfNoEntry: false }) !== undefined }).toEqual({ source, exists: true });
      }
    }
  });

  test('the command it runs names a .ts file the runtime stage copies (the entry point: src/composition/main.ts)', () => {
    const entry = runtime!.cmd?.find((arg) => arg.endsWith('.ts'));
    expect(entry).toBe('src/composition/main.ts');
    const copied = runtime!.copies.filter((c) => !c.from).flatMap((c) => c.sources);
    expect(copied.some((source) => entry === source || entry!.startsWith(source + '/'))).toBe(true);
    expect(statSync(join(root, entry!)).isFile()).toBe(true);
  });

  test('the install stage installs from exactly what it copies, with the postgres.js patch applied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'calwatch-image-'));
    try {
      for (const copy of deps!.copies) {
        expect(copy.from).toBeUndefined();
        for (const source of copy.sources) cpSync(join(root, source), copyTarget(dir, source, copy.dest), { recursive: true });
      }
      for (const run of deps!.runs) {
        const proc = Bun.spawn(['sh', '-c', run], { cwd: dir, stdout: 'pipe', stderr: 'pipe', env: { ...process.env, NODE_ENV: 'production' } });
        const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
        expect({ run, code, stderr: code === 0 ? '' : stderr }).toEqual({ run, code: 0, stderr: '' });
      }
      // Every file the patch changes carries the change in the installed package.
      const patch = readFileSync(join(root, 'patches', 'postgres@3.4.9.patch'), 'utf8');
      const files = [...patch.matchAll(/^\+\+\+ b\/(.+)$/gm)].map((m) => m[1]!);
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) {
        const installed = readFileSync(join(dir, 'node_modules', 'postgres', file), 'utf8');
        expect({ file, patched: installed.includes('calwatch patch') }).toEqual({ file, patched: true });
      }
      // The version the patch was written for is the one installed (package.json pins it exactly).
      const version = JSON.parse(readFileSync(join(dir, 'node_modules', 'postgres', 'package.json'), 'utf8')).version;
      expect(version).toBe('3.4.9');
      expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).dependencies.postgres).toBe('3.4.9');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
