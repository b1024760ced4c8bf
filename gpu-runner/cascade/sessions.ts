/**
 * One ModelSession per graph of a bundle, opened on demand and checked against the manifest when opened.
 * Normal mode keeps every session open for the generator's lifetime; low-memory mode keeps at most one stage's
 * session and releases it before the next stage opens (the real Stage C is 7–14 GB, Stage B 3–6 GB: spec §6.3).
 */
import { checkGraphIo, GRAPH_STAGES, OPTIONAL_STAGES, type GraphStage, type LoadedBundle } from './bundle.js';
import { ModelSession, type Provider } from './runtime.js';

export class SessionPool {
  private readonly open = new Map<GraphStage, ModelSession>();

  constructor(
    readonly bundle: LoadedBundle,
    readonly provider: Provider,
    readonly lowMemory: boolean,
  ) {}

  /** Opens every graph once to check its I/O against the manifest; keeps them open unless low-memory. */
  async validateAll(): Promise<void> {
    for (const stage of GRAPH_STAGES) {
      if (OPTIONAL_STAGES.has(stage) && !this.bundle.manifest[stage]) continue;
      await this.get(stage);
    }
    if (this.lowMemory) await this.releaseAll();
  }

  async get(stage: GraphStage): Promise<ModelSession> {
    const existing = this.open.get(stage);
    if (existing) return existing;
    if (this.lowMemory) await this.releaseAll();
    const graph = this.bundle.manifest[stage];
    if (!graph) throw new Error(`this bundle has no ${stage} graph`);
    const session = await ModelSession.open(this.bundle.path(graph.file), { provider: this.provider, label: stage });
    try {
      checkGraphIo(this.bundle, stage, session);
    } catch (err) {
      await session.release();
      throw err;
    }
    this.open.set(stage, session);
    return session;
  }

  /** In low-memory mode, drop a stage's session once it is done; otherwise a no-op. */
  async done(stage: GraphStage): Promise<void> {
    if (this.lowMemory) await this.close(stage);
  }

  async releaseAll(): Promise<void> {
    for (const stage of [...this.open.keys()]) await this.close(stage);
  }

  /** Releases a stage's session, keeping its onnxruntime counters in the stage totals. */
  private async close(stage: GraphStage): Promise<void> {
    const session = this.open.get(stage);
    if (!session) return;
    this.open.delete(stage);
    const totals = this.runStats.get(stage) ?? { runs: 0, runMs: 0 };
    totals.runs += session.stats.runs;
    totals.runMs += session.stats.runMs;
    this.runStats.set(stage, totals);
    await session.release();
  }

  /** Per stage: onnxruntime calls and ms spent in them, over every session opened so far. */
  readonly runStats = new Map<GraphStage, { runs: number; runMs: number }>();

  /** Calls and ms in onnxruntime per stage, open sessions included. */
  sessionStats(): Record<string, { runs: number; runMs: number }> {
    const out: Record<string, { runs: number; runMs: number }> = {};
    for (const stage of new Set([...this.runStats.keys(), ...this.open.keys()])) {
      const closed = this.runStats.get(stage) ?? { runs: 0, runMs: 0 };
      const live = this.open.get(stage)?.stats ?? { runs: 0, runMs: 0 };
      out[stage] = { runs: closed.runs + live.runs, runMs: closed.runMs + live.runMs };
    }
    return out;
  }
}
