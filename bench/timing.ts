// Shared by the query benchmarks: percentiles and a timed loop with warm-up.

/** The p-th percentile (nearest rank) of `xs`. */
export const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

/** Runs `fn` `warmup` times untimed, then `n` times timed, one after another: p50, p99 and mean in ms. */
export async function measure(n: number, fn: () => Promise<unknown>, warmup = 3): Promise<{ p50: number; p99: number; mean: number; n: number }> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99), mean: times.reduce((a, b) => a + b, 0) / n, n };
}
