"""test/fixtures/external-data/: a tiny graph whose weights live in an external-data file, with symbolic batch and
spatial dims, for the fixed-shape bucket tests (test/cascade/buckets.test.ts: a bucket graph must keep pointing at the
same .data file instead of copying the weights). Needs numpy and onnx only:

    python3 tools/export/make_external_data_fixture.py --out test/fixtures/external-data
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build() -> onnx.ModelProto:
    rng = np.random.default_rng(7)
    weight = numpy_helper.from_array(rng.standard_normal((8, 4, 3, 3)).astype(np.float32) * 0.2, "conv.weight")
    bias = numpy_helper.from_array(rng.standard_normal(8).astype(np.float32) * 0.1, "conv.bias")
    proj = numpy_helper.from_array(rng.standard_normal((4, 8, 1, 1)).astype(np.float32) * 0.3, "proj.weight")
    nodes = [
        helper.make_node("Conv", ["sample", "conv.weight", "conv.bias"], ["h"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["h"], ["r"]),
        # Shape arithmetic as a dynamic-shape export has it: reshape through the input's own shape.
        helper.make_node("Conv", ["r", "proj.weight"], ["p"]),
        helper.make_node("Shape", ["sample"], ["s"]),
        helper.make_node("Reshape", ["p", "s"], ["eps"]),
    ]
    graph = helper.make_graph(
        nodes, "external-data-fixture",
        [helper.make_tensor_value_info("sample", TensorProto.FLOAT, ["batch", 4, "height", "width"])],
        [helper.make_tensor_value_info("eps", TensorProto.FLOAT, ["batch", 4, "height", "width"])],
        [weight, bias, proj],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    onnx.save_model(build(), str(args.out / "conv.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="conv.onnx.data", size_threshold=0)
    print(f"wrote {args.out / 'conv.onnx'} and conv.onnx.data")


if __name__ == "__main__":
    main()
