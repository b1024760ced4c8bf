/**
 * Per-step noise drawn ahead on a worker thread. onnxruntime-node runs a session synchronously on the JS thread, so
 * while a denoising step's graph runs nothing else in JS does; Stage B's noise (≈ 1 M normals per step for a 2×2 grid,
 * ≈ 10–20 ms of ziggurat) used to be drawn on that thread between two graph calls. Here a worker owns the generator
 * state of each (seed, stream) and, as soon as a `fill` of n values returns, draws the next n values of every image's
 * sequence into a SharedArrayBuffer, during the next graph call. The next `fill` takes them (`Atomics.wait` until the
 * worker is done, normally already the case); a different size keeps the leftovers for later, or has the worker draw
 * the missing values at once. The worker draws with noise.ts's own code (`seededNormalKit`, shipped as source text),
 * strictly in sequence, so the numbers are exactly `tileNoise`'s whatever the sizes asked.
 *
 * The worker is an inline CommonJS module (`eval: true`), so the esbuild bundle of the runner needs no second entry.
 * It is `unref`'d (never keeps the process alive); `dispose` terminates it.
 *
 * @example
 *   const worker = new NoiseWorker();
 *   const noise = worker.open([seed0, seed1], NOISE_STREAM.decoderSteps); // like tileNoise(seeds, stream)
 *   noise.fill(z); // the first fill waits for the worker; the next one finds its values drawn
 *   noise.close(); // end of the generation
 *   await worker.dispose(); // end of the engine
 */
import { Worker } from 'node:worker_threads';
import { createSeededNoise, seededNormalKit, type NoiseSource } from './noise.ts';

/** Control words in each stream's shared Int32Array. */
const TICKET = 0;
const FAILED = 1;
const ERROR_LENGTH = 2;
const CONTROL_WORDS = 4;
const ERROR_BYTES = 2048;

interface OpenMessage { type: 'open'; id: number; seeds: number[]; stream: number; control: SharedArrayBuffer; error: SharedArrayBuffer }
interface DrawMessage { type: 'draw'; id: number; ticket: number; data: SharedArrayBuffer; stride: number; offset: number; count: number }
interface CloseMessage { type: 'close'; id: number }
type WorkerMessage = OpenMessage | DrawMessage | CloseMessage;

/**
 * The worker's body, run there from its source text: it may read nothing from this module but its argument.
 * For each draw it fills image b's chunk [b·stride + offset, + count) of `data`, then publishes the ticket.
 */
function noiseWorkerMain(kit: ReturnType<typeof seededNormalKit>, port: { on(event: 'message', listener: (m: WorkerMessage) => void): void }): void {
  const streams = new Map<number, { sources: NoiseSource[]; control: Int32Array; error: Uint8Array }>();
  port.on('message', (m) => {
    if (m.type === 'open') {
      streams.set(m.id, { sources: m.seeds.map((seed) => kit.create(seed, m.stream)), control: new Int32Array(m.control), error: new Uint8Array(m.error) });
      return;
    }
    if (m.type === 'close') {
      streams.delete(m.id);
      return;
    }
    const stream = streams.get(m.id);
    if (!stream) return; // closed before its prefetch arrived: nobody waits for it
    try {
      stream.sources.forEach((source, b) => source.fill(new Float32Array(m.data, 4 * (b * m.stride + m.offset), m.count)));
    } catch (error) {
      const text = new TextEncoder().encode(String(error instanceof Error ? (error.stack ?? error.message) : error)).subarray(0, stream.error.length);
      stream.error.set(text);
      // Literal indices (ERROR_LENGTH, FAILED, TICKET): a bundler may rename module constants, not this text's numbers.
      Atomics.store(stream.control, 2, text.length);
      Atomics.store(stream.control, 1, 1);
    }
    Atomics.store(stream.control, 0, m.ticket);
    Atomics.notify(stream.control, 0);
  });
}

/**
 * The worker's whole program: the generator kit and the message loop, from their source text. `__name` is the helper
 * that esbuild's keepNames (vitest's transform) wraps named functions in; the text may carry calls to it. `kit` (tests): an expression
 * for another generator kit.
 */
export function noiseWorkerSource(kit = `(${seededNormalKit.toString()})()`): string {
  return [
    'const __name = (target) => target;',
    `const kit = ${kit};`,
    `(${noiseWorkerMain.toString()})(kit, require('node:worker_threads').parentPort);`,
  ].join('\n');
}

export interface NoiseWorkerOptions {
  /** How long a `fill` waits for the worker before it gives up (a dead or stuck worker). Default 30 s. */
  timeoutMs?: number;
  /** The worker's program (tests: a worker that fails or exits). Default `noiseWorkerSource()`. */
  source?: string;
}

/** A `tileNoise`-equivalent source whose next draw is prepared on the worker. `close` ends it. */
export interface PrefetchedNoise extends NoiseSource {
  prefetch(count: number): void;
  close(): void;
}

/** One worker thread for the prefetched noise streams of an engine; reused across generations. */
export class NoiseWorker {
  private worker: Worker | undefined;
  private exitReason: string | undefined;
  private disposed = false;
  private nextId = 1;
  private readonly timeoutMs: number;
  private readonly source: string;

  constructor(options: NoiseWorkerOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.source = options.source ?? noiseWorkerSource();
  }

  /** Like `tileNoise(seeds, stream)`: one sequence per seed, `fill` splits its buffer into equal per-image chunks. */
  open(seeds: readonly number[], stream: number): PrefetchedNoise {
    if (seeds.length === 0) throw new Error('noise worker: a stream needs at least one seed');
    // The seeded sources check seed and stream; the worker then creates the same ones.
    for (const seed of seeds) createSeededNoise(seed, stream);
    return new PrefetchedStream(this, this.nextId++, seeds.length, { type: 'open', id: 0, seeds: [...seeds], stream, control: new SharedArrayBuffer(4 * CONTROL_WORDS), error: new SharedArrayBuffer(ERROR_BYTES) });
  }

  /** Terminates the worker; later fills throw. Idempotent. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  /** @internal */
  post(message: WorkerMessage): void {
    this.check();
    this.start().postMessage(message);
  }

  /** @internal Throws when the worker cannot answer: disposed, or exited (error, terminated). */
  check(): void {
    if (this.disposed) throw new Error('noise worker: disposed');
    if (this.exitReason) throw new Error(`noise worker: ${this.exitReason}`);
  }

  /** Whether a worker thread is up (started by the first `open`, ended by `dispose`). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** @internal */
  get waitMs(): number {
    return this.timeoutMs;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.source, { eval: true, name: 'cascade-noise' });
    worker.unref();
    worker.on('error', (error: unknown) => {
      this.exitReason ??= `failed: ${error instanceof Error ? error.message : String(error)}`;
    });
    worker.on('exit', (code) => {
      this.exitReason ??= `exited (code ${code})`;
      if (this.worker === worker) this.worker = undefined;
    });
    this.worker = worker;
    return worker;
  }
}

class PrefetchedStream implements PrefetchedNoise {
  private readonly control: Int32Array;
  private readonly error: Uint8Array;
  private data = new SharedArrayBuffer(0);
  /** Values per image that `data` holds room for (chunk b starts at b·stride). */
  private stride = 0;
  /** Values [used, ready) of every chunk are drawn and not yet taken (once `pending` is answered). */
  private used = 0;
  private ready = 0;
  private ticket = 0;
  private pending = false;
  private closed = false;
  private readonly owner: NoiseWorker;
  private readonly id: number;
  private readonly images: number;

  constructor(
    owner: NoiseWorker,
    id: number,
    images: number,
    open: OpenMessage,
  ) {
    this.owner = owner;
    this.id = id;
    this.images = images;
    this.control = new Int32Array(open.control);
    this.error = new Uint8Array(open.error);
    owner.post({ ...open, id });
  }

  fill(out: Float32Array): void {
    if (this.closed) throw new Error('noise worker: stream closed');
    if (out.length % this.images !== 0) {
      throw new Error(`batch noise: ${out.length} values do not split into ${this.images} equal items`);
    }
    const per = out.length / this.images;
    this.await();
    if (this.ready - this.used < per) {
      this.topUp(per);
      this.await();
    }
    const data = new Float32Array(this.data);
    for (let b = 0; b < this.images; b++) {
      const from = b * this.stride + this.used;
      out.set(data.subarray(from, from + per), b * per);
    }
    this.used += per;
    // The next fill most likely asks as many: draw them while the caller runs its graph.
    this.topUp(per);
  }

  prefetch(count: number): void {
    // While a draw is in flight its buffer is the worker's; the next fill tops up after it anyway.
    if (this.closed || this.pending || count % this.images !== 0) return;
    this.owner.check();
    this.topUp(count / this.images);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.owner.post({ type: 'close', id: this.id });
    } catch {
      // worker gone: nothing to free there
    }
  }

  /** Asks the worker for values until `target` per image are ready (after the leftovers, moved to the chunks' start). */
  private topUp(target: number): void {
    const left = this.ready - this.used;
    if (left >= target) return;
    const old = new Float32Array(this.data);
    if (target > this.stride) {
      const stride = target;
      const data = new SharedArrayBuffer(4 * this.images * stride);
      const view = new Float32Array(data);
      for (let b = 0; b < this.images; b++) view.set(old.subarray(b * this.stride + this.used, b * this.stride + this.ready), b * stride);
      this.data = data;
      this.stride = stride;
    } else if (this.used > 0) {
      for (let b = 0; b < this.images; b++) old.copyWithin(b * this.stride, b * this.stride + this.used, b * this.stride + this.ready);
    }
    this.used = 0;
    this.ready = target;
    this.ticket = (this.ticket + 1) | 0;
    this.pending = true;
    this.owner.post({ type: 'draw', id: this.id, ticket: this.ticket, data: this.data, stride: this.stride, offset: left, count: target - left });
  }

  /** Blocks until the worker has answered the last draw; throws its error, or when it is gone or silent too long. */
  private await(): void {
    if (!this.pending) return;
    this.owner.check();
    const deadline = performance.now() + this.owner.waitMs;
    for (;;) {
      const seen = Atomics.load(this.control, TICKET);
      if (seen === this.ticket) break;
      const left = deadline - performance.now();
      if (left <= 0 || Atomics.wait(this.control, TICKET, seen, left) === 'timed-out') {
        if (Atomics.load(this.control, TICKET) === this.ticket) break;
        this.closed = true;
        throw new Error(`noise worker: no answer in ${this.owner.waitMs} ms`);
      }
    }
    this.pending = false;
    if (Atomics.load(this.control, FAILED)) {
      this.closed = true;
      const text = new TextDecoder().decode(this.error.slice(0, Atomics.load(this.control, ERROR_LENGTH)));
      throw new Error(`noise worker: the draw failed: ${text}`);
    }
  }
}
