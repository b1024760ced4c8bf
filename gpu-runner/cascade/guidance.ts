/**
 * Classifier-free guidance with CFG rescale (stub: API only, implementation follows).
 */
export function applyCfg(
  epsCond: Float32Array,
  epsUncond: Float32Array,
  scale: number,
  rho: number,
  out: Float32Array = new Float32Array(epsCond.length),
): Float32Array {
  void epsUncond;
  void scale;
  void rho;
  return out;
}

/** CFG over a batch of `batch` images laid out back to back; `stdScope` chooses where the rescale std is taken. */
export function applyCfgBatch(
  epsCond: Float32Array,
  epsUncond: Float32Array,
  batch: number,
  scale: number,
  rho: number,
  stdScope: 'half-batch' | 'per-image',
  out: Float32Array = new Float32Array(epsCond.length),
): Float32Array {
  void epsUncond;
  void batch;
  void scale;
  void rho;
  void stdScope;
  return out;
}
