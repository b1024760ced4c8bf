/**
 * Node/V8 flags the runner process starts with, here (local/runner-process.ts) and in the image (gpu-runner/Dockerfile's
 * CMD, checked against this list by test/infra/runner-image.test.ts).
 *
 * `--initial-old-space-size=128`: the runner's JS heap is small (≈ 20 MB live) but each job promotes a few MB, and
 * V8 starts a full, incremental GC whenever the room left under the old generation's limit falls below the young
 * generation's size. With the limit it derives from a 20 MB heap, that happened once per job in some runs and not
 * in others (it depends on GC speed measured at start-up), and its marking then shared the CPU with the job's PNG
 * encodes and uploads. A 128 MB floor under the limit leaves room for many jobs between full GCs. Measured on
 * bench/e2e-latency.ts (2 cores, demo model): full GCs in the runner 20 per 21 jobs in slow runs (share 9.2–9.7 %),
 * 1–3 with the flag (7.9–8.0 %).
 */
export const RUNNER_NODE_FLAGS = ['--initial-old-space-size=128'] as const;
