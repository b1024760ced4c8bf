/** One line of latency figures for the benchmarks: n, p50, p99, max (ms). */
export function latencySummary(label: string, samples: readonly number[], digits = 2, width = 44): string {
  if (samples.length === 0) return `${label.padEnd(width)} n=0`;
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `${label.padEnd(width)} n=${sorted.length}  p50 ${at(0.5).toFixed(digits)} ms  p99 ${at(0.99).toFixed(digits)} ms  max ${sorted[sorted.length - 1]!.toFixed(digits)} ms`;
}

/** The middle of the samples: the mean of the two middle values when their count is even (NaN for none). */
export function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted.length ? (sorted[(sorted.length - 1) >> 1]! + sorted[sorted.length >> 1]!) / 2 : Number.NaN;
}

/** The q-quantile (0–1) of the samples, nearest rank. */
export function quantile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}
