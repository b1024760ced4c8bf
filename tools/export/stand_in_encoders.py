"""Stand-in image encoders for the parity fixture when PyTorch is not at hand: two hand-built ONNX graphs with the
manifest's I/O contract (numpy + onnx only), added to test/fixtures/cascade-tiny/ with their manifest sections.
- image_encoder.onnx: [B,3,32,32] → 8×8/8 conv (3→16) → tanh → global average → 16→24 projection = image_embeds [B,24];
- effnet_encoder.onnx: [B,3,32h,32w] → 32×32/32 conv (3→16) → (x − m)·3 = latent [B,16,h,w] (cell 32).
They exercise every engine and front-end path; they are not the diffusers/torchvision architectures, so reference
parity for the encoders comes from make_fixture.py --images-only (which replaces these graphs) — see tools/export/README.md.

    PYTHONPATH=tools/export python tools/export/stand_in_encoders.py --out test/fixtures/cascade-tiny
"""
import argparse
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, TensorProto, numpy_helper
rng = np.random.default_rng(42)
parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()


def save(nodes, inits, inp, out, name):
    path = str(args.out / name)
    g = helper.make_graph(nodes, path, [inp], [out], [numpy_helper.from_array(a, n) for n, a in inits])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 18)])
    m.ir_version = 9
    onnx.checker.check_model(m)
    onnx.save(m, path)
# image encoder: [B,3,32,32] -> conv 8x8/8 (3->16) -> tanh -> global avg -> flatten -> matmul 16->24
w1 = (rng.standard_normal((16, 3, 8, 8)) / np.sqrt(192)).astype(np.float32); b1 = (rng.standard_normal(16) * 0.1).astype(np.float32)
w2 = (rng.standard_normal((16, 24)) / 4).astype(np.float32)
save([helper.make_node('Conv', ['pixel_values', 'w1', 'b1'], ['c'], strides=[8, 8], kernel_shape=[8, 8]),
      helper.make_node('Tanh', ['c'], ['t']), helper.make_node('GlobalAveragePool', ['t'], ['p']),
      helper.make_node('Flatten', ['p'], ['f'], axis=1), helper.make_node('MatMul', ['f', 'w2'], ['image_embeds'])],
     [('w1', w1), ('b1', b1), ('w2', w2)],
     helper.make_tensor_value_info('pixel_values', TensorProto.FLOAT, ['batch', 3, 32, 32]),
     helper.make_tensor_value_info('image_embeds', TensorProto.FLOAT, ['batch', 24]), 'image_encoder.onnx')
# effnet: [B,3,32h,32w] -> conv 32x32/32 (3->16) -> (x - mean)/std
w3 = (rng.standard_normal((16, 3, 32, 32)) / np.sqrt(3072)).astype(np.float32)
mean = (rng.standard_normal((1, 16, 1, 1)) * 0.1).astype(np.float32); inv = np.full((1, 16, 1, 1), 3.0, np.float32)
save([helper.make_node('Conv', ['image', 'w3'], ['c'], strides=[32, 32], kernel_shape=[32, 32]),
      helper.make_node('Sub', ['c', 'mean'], ['s']), helper.make_node('Mul', ['s', 'inv'], ['latent'])],
     [('w3', w3), ('mean', mean), ('inv', inv)],
     helper.make_tensor_value_info('image', TensorProto.FLOAT, ['batch', 3, 'height', 'width']),
     helper.make_tensor_value_info('latent', TensorProto.FLOAT, ['batch', 16, 'latent_height', 'latent_width']), 'effnet_encoder.onnx')
from cascade_export import bundle  # noqa: E402

manifest = json.loads((args.out / "manifest.json").read_text(encoding="utf-8"))
manifest["imageEncoder"] = bundle.image_encoder_section(args.out, "image_encoder.onnx", "float32", size=32, embed_size=24)
manifest["effnetEncoder"] = bundle.effnet_encoder_section(args.out, "effnet_encoder.onnx", "float32", cell=32, channels=16)
bundle.write_manifest(args.out, manifest)
print(f"stand-in encoders written to {args.out}")
