// Progress for long CLI commands: a bar redrawn in place on a terminal, plain lines otherwise
// (CI logs, pipes), at most one line per 10% so logs stay readable.
export interface Progress {
  update(done: number, total: number, note?: string): void;
  finish(summary: string): void;
}

export function createProgress(label: string, out: NodeJS.WriteStream = process.stdout): Progress {
  const tty = Boolean(out.isTTY);
  let lastDecile = -1;
  return {
    update(done, total, note) {
      const ratio = total === 0 ? 1 : Math.min(1, done / total);
      if (tty) {
        const width = 30;
        const filled = Math.round(ratio * width);
        out.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}${note ? ` ${note}` : ''}\x1b[K`);
        return;
      }
      const decile = Math.floor(ratio * 10);
      if (decile !== lastDecile || done === total) {
        lastDecile = decile;
        out.write(`${label}: ${done}/${total}${note ? ` ${note}` : ''}\n`);
      }
    },
    finish(summary) {
      out.write(`${tty ? '\r\x1b[K' : ''}${label}: ${summary}\n`);
    },
  };
}

/** A plain text table: columns padded to their widest cell. */
export function formatTable(headers: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(cells[0]!), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}
