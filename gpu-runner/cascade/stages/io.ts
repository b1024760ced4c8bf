/**
 * Reusable float buffers between the loop (always float32) and a graph whose float I/O is float32 or float16.
 * Buffers are re-allocated only when a size changes, so a denoising loop allocates nothing per step.
 */
import type { TensorDtype } from '../manifest.ts';
import { elementCount, fromFloat16, tensor, toFloat16, type Tensor } from '../runtime.ts';

/** An input in the graph's dtype: float32 arrays pass through, float16 is converted into a kept buffer. */
export class FloatFeed {
  private half = new Uint16Array(0);
  readonly dtype: TensorDtype;
  constructor(dtype: TensorDtype) {
    this.dtype = dtype;
  }

  tensor(values: Float32Array, dims: readonly number[]): Tensor {
    if (this.dtype === 'float32') return tensor(values, dims);
    if (this.half.length !== values.length) this.half = new Uint16Array(values.length);
    return tensor(toFloat16(values, this.half), dims);
  }
}

/** An output lent to onnxruntime in the graph's dtype, read back as float32. */
export class FloatFetch {
  private buffer: Float32Array | Uint16Array = new Float32Array(0);
  private widened = new Float32Array(0);
  private dims: readonly number[] = [];
  readonly dtype: TensorDtype;
  constructor(dtype: TensorDtype) {
    this.dtype = dtype;
  }

  tensor(dims: readonly number[]): Tensor {
    const count = elementCount(dims);
    if (this.buffer.length !== count) {
      this.buffer = this.dtype === 'float32' ? new Float32Array(count) : new Uint16Array(count);
    }
    this.dims = [...dims];
    return tensor(this.buffer, this.dims);
  }

  /** The last run's values as float32 (a kept buffer: copy it if it must outlive the next run). */
  read(): Float32Array {
    if (this.buffer instanceof Float32Array) return this.buffer;
    if (this.widened.length !== this.buffer.length) this.widened = new Float32Array(this.buffer.length);
    return fromFloat16(this.buffer, this.widened);
  }
}

/** Float32 view of an onnxruntime-allocated output (converting float16). */
export function asFloat32(t: Tensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  if (t.data instanceof Uint16Array) return fromFloat16(t.data);
  throw new Error(`expected a float tensor, got ${t.type} [${t.dims.join(', ')}]`);
}
