/**
 * The sessions of a bundle's graphs, opened on demand and checked against the manifest when opened.
 *
 * A stage's graph is reached through `get(stage)`, a `StageGraph` that picks, per call, the file to run: the stage's
 * fixed-shape bucket whose input shapes equal the call's feeds (buckets.ts, manifest `<stage>.buckets`), else the
 * dynamic graph. Each open session holds its own copy of the weights on the device, so:
 * - warm buckets (`warm: true`, the shapes nearly every request uses) are opened at start and kept; a stage that has
 *   one opens its dynamic graph only at the first call no bucket fits;
 * - other buckets are opened at first use and at most `maxColdBuckets` of them stay open (least recently used first out);
 * - low-memory mode keeps at most one session of any kind, released before the next one opens (the real Stage C is
 *   7–14 GB, Stage B 3–6 GB: spec §6.3).
 */
import { checkGraphIo, clipImageGroupProblems, GRAPH_STAGES, OPTIONAL_STAGES, BundleError, type GraphStage, type LoadedBundle } from './bundle.ts';
import { matchBucket } from './buckets.ts';
import type { GraphBucket } from './manifest.ts';
import { ModelSession, type Provider, type Tensor } from './runtime.ts';

/** What the stages need of a graph: a labelled `run`. */
export interface GraphRunner {
  readonly label: string;
  run(feeds: Readonly<Record<string, Tensor>>, into?: Readonly<Record<string, Tensor>>): Promise<Record<string, Tensor>>;
}

/** One stage's graph: each run goes to the bucket that fits the feeds' shapes, or to the dynamic graph. */
export class StageGraph implements GraphRunner {
  /** The bundle-relative file of the last run (for tests and logs). */
  lastFile: string | undefined;
  private readonly pool: SessionPool;
  readonly stage: GraphStage;

  constructor(
    pool: SessionPool,
    stage: GraphStage,
  ) {
    this.pool = pool;
    this.stage = stage;
  }

  get label(): string {
    return this.stage;
  }

  async run(feeds: Readonly<Record<string, Tensor>>, into: Readonly<Record<string, Tensor>> = {}): Promise<Record<string, Tensor>> {
    const session = await this.pool.sessionFor(this.stage, feeds);
    this.lastFile = session.file;
    return session.session.run(feeds, into);
  }
}

export interface OpenSession {
  stage: GraphStage;
  file: string;
  session: ModelSession;
  bucket: GraphBucket | undefined;
  lastUsed: number;
}

export interface SessionPoolOptions {
  lowMemory: boolean;
  /** Buckets without `warm` kept open at once (each holds a copy of its stage's weights). Default 2. */
  maxColdBuckets?: number;
  /** CPU provider: threads per session, passed to every session it opens (OpenOptions.cpuThreads decides). */
  cpuThreads?: number;
}

export class SessionPool {
  /** By `sessionKey(stage, file)`: a stage's checks apply to its own session even when two stages name one file. */
  private readonly open = new Map<string, OpenSession>();
  private readonly graphs = new Map<GraphStage, StageGraph>();
  private useCounter = 0;
  readonly lowMemory: boolean;
  readonly maxColdBuckets: number;
  readonly cpuThreads: number | undefined;
  readonly bundle: LoadedBundle;
  readonly provider: Provider;

  constructor(
    bundle: LoadedBundle,
    provider: Provider,
    options: SessionPoolOptions | boolean,
  ) {
    this.bundle = bundle;
    this.provider = provider;
    const o = typeof options === 'boolean' ? { lowMemory: options } : options;
    this.lowMemory = o.lowMemory;
    this.maxColdBuckets = o.maxColdBuckets ?? 2;
    this.cpuThreads = o.cpuThreads;
  }

  /**
   * Opens every graph once to check its I/O against the manifest and keeps it open unless low-memory. A stage with warm
   * buckets opens those instead (I/O and fixed shapes checked): they are copies of its graph with the same inputs and
   * outputs, and opening the dynamic graph too would cost its session creation (Stage B: 38 s on WebGPU, issue #25)
   * and a second copy of the weights; it opens at the first call no bucket fits.
   */
  async validateAll(): Promise<void> {
    for (const stage of GRAPH_STAGES) {
      const graph = this.bundle.manifest[stage];
      if (!graph && OPTIONAL_STAGES.has(stage)) continue;
      if (!graph) throw new Error(`this bundle has no ${stage} graph`);
      const warm = graph.buckets.filter((b) => b.warm);
      if (!warm.length) await this.openFile(stage, graph.file, undefined);
      for (const bucket of warm) await this.openFile(stage, bucket.file, bucket);
    }
    if (this.lowMemory) await this.releaseAll();
  }

  /** The stage's graph (throws when the bundle has none); sessions open at its first run. */
  async get(stage: GraphStage): Promise<StageGraph> {
    if (!this.bundle.manifest[stage]) throw new Error(`this bundle has no ${stage} graph`);
    let graph = this.graphs.get(stage);
    if (!graph) {
      graph = new StageGraph(this, stage);
      this.graphs.set(stage, graph);
    }
    return graph;
  }

  /** The session for one call of `stage` with these feeds: the fitting bucket's, else the dynamic graph's. */
  async sessionFor(stage: GraphStage, feeds: Readonly<Record<string, Tensor>>): Promise<OpenSession> {
    const graph = this.bundle.manifest[stage];
    if (!graph) throw new Error(`this bundle has no ${stage} graph`);
    const dims: Record<string, readonly number[]> = {};
    for (const [name, t] of Object.entries(feeds)) dims[name] = t.dims;
    const bucket = matchBucket(graph.buckets, dims);
    return this.openFile(stage, bucket?.file ?? graph.file, bucket);
  }

  private async openFile(stage: GraphStage, file: string, bucket: GraphBucket | undefined): Promise<OpenSession> {
    const key = sessionKey(stage, file);
    const existing = this.open.get(key);
    if (existing) {
      existing.lastUsed = ++this.useCounter;
      return existing;
    }
    if (this.lowMemory) await this.releaseAll();
    else if (bucket && !bucket.warm) await this.evictColdBuckets(this.maxColdBuckets - 1);
    const label = bucket ? `${stage} (${file})` : stage;
    const session = await ModelSession.open(this.bundle.path(file), { provider: this.provider, label, cpuThreads: this.cpuThreads });
    try {
      checkGraphIo(this.bundle, stage, session);
      if (bucket) checkBucketShapes(this.bundle, stage, bucket, session);
      else if (stage === 'prior') {
        const problems = clipImageGroupProblems(this.bundle.manifest, session);
        if (problems.length) throw new BundleError(this.bundle.dir, problems);
      }
    } catch (err) {
      await session.release();
      throw err;
    }
    const entry: OpenSession = { stage, file, session, bucket, lastUsed: ++this.useCounter };
    this.open.set(key, entry);
    return entry;
  }

  private async evictColdBuckets(keep: number): Promise<void> {
    const cold = [...this.open.values()].filter((s) => s.bucket && !s.bucket.warm).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const entry of cold.slice(0, Math.max(0, cold.length - Math.max(0, keep)))) await this.close(entry);
  }

  /** In low-memory mode, drop a stage's sessions once it is done; otherwise a no-op. */
  async done(stage: GraphStage): Promise<void> {
    if (!this.lowMemory) return;
    for (const entry of [...this.open.values()]) if (entry.stage === stage) await this.close(entry);
  }

  async releaseAll(): Promise<void> {
    for (const entry of [...this.open.values()]) await this.close(entry);
  }

  /** The bundle-relative files with an open session (for tests and logs). */
  openFiles(): string[] {
    return [...this.open.values()].map((entry) => entry.file);
  }

  /** Releases a session, keeping its onnxruntime counters in its stage's totals. */
  private async close(entry: OpenSession): Promise<void> {
    if (!this.open.delete(sessionKey(entry.stage, entry.file))) return;
    const totals = this.runStats.get(entry.stage) ?? { runs: 0, runMs: 0 };
    totals.runs += entry.session.stats.runs;
    totals.runMs += entry.session.stats.runMs;
    this.runStats.set(entry.stage, totals);
    await entry.session.release();
  }

  /** Per stage: onnxruntime calls and ms spent in them, over every session closed so far. */
  readonly runStats = new Map<GraphStage, { runs: number; runMs: number }>();

  /** Calls and ms in onnxruntime per stage, open sessions (dynamic and buckets) included. */
  sessionStats(): Record<string, { runs: number; runMs: number }> {
    const out: Record<string, { runs: number; runMs: number }> = {};
    for (const [stage, closed] of this.runStats) out[stage] = { ...closed };
    for (const entry of this.open.values()) {
      const totals = (out[entry.stage] ??= { runs: 0, runMs: 0 });
      totals.runs += entry.session.stats.runs;
      totals.runMs += entry.session.stats.runMs;
    }
    return out;
  }
}

function sessionKey(stage: GraphStage, file: string): string {
  return `${stage}\u0000${file}`;
}

/** A bucket's graph must take exactly the shapes the manifest declares for it (no symbolic dim left). */
function checkBucketShapes(bundle: LoadedBundle, stage: GraphStage, bucket: GraphBucket, session: ModelSession): void {
  const problems: string[] = [];
  for (const input of session.inputs) {
    const want = bucket.inputs[input.name];
    const got = input.shape;
    if (!want || want.length !== got.length || want.some((d, i) => d !== got[i])) {
      problems.push(`${stage} bucket ${bucket.file}: input ${input.name} has shape [${got.join(', ')}], the manifest declares [${want?.join(', ') ?? 'nothing'}]`);
    }
  }
  if (problems.length) throw new BundleError(bundle.dir, problems);
}
