"""Stable Cascade → cascade bundle exporter. `bundle` (manifest, tokenizer, graph checks) needs only numpy/onnx/onnxruntime."""
