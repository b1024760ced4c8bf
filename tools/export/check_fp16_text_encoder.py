"""Issue #25: does a float16 text encoder export load in onnxruntime?

For a small random-weight CLIP text model (transformers' CLIPTextModelWithProjection when transformers is installed,
else a stand-in with CLIP's block structure: pre-LayerNorm layers, float32 softmax cast back, causal + padding masks
from the dtype's minimum, quick-GELU), on the CPU and on CUDA when present, exports
  - "traced-fp16": the module cast to float16 and traced, as `--dtype float16` did before this fix;
  - "exporter": `graphs.export_text_encoder(..., "float16", ...)` as it is now (float32 trace, graph-wide float16
    conversion), for float32 and float16 graph I/O;
then for each graph: LayerNormalization nodes whose input and scale types differ (onnx type inference), whether
onnxruntime (CPU) loads it, and max |onnxruntime − torch float32| per output. Writes one JSON report and prints it.

    PYTHONPATH=tools/export python3 tools/export/check_fp16_text_encoder.py --out fp16-text-encoder.json
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch
from torch import nn

from cascade_export import bundle, graphs

VOCAB, HIDDEN, LAYERS, HEADS, TOKENS = 1000, 64, 3, 4, 77


class StandInClip(nn.Module):
    """CLIPTextModelWithProjection's computation (transformers' eager attention), for hosts without transformers."""

    def __init__(self, vocab: int = VOCAB, hidden: int = HIDDEN, layers: int = LAYERS, heads: int = HEADS) -> None:
        super().__init__()
        self.hidden, self.heads = hidden, heads
        self.token = nn.Embedding(vocab, hidden)
        self.position = nn.Embedding(TOKENS, hidden)
        self.layers = nn.ModuleList(nn.ModuleDict({
            "layer_norm1": nn.LayerNorm(hidden), "qkv": nn.Linear(hidden, 3 * hidden), "out_proj": nn.Linear(hidden, hidden),
            "layer_norm2": nn.LayerNorm(hidden), "fc1": nn.Linear(hidden, 4 * hidden), "fc2": nn.Linear(4 * hidden, hidden),
        }) for _ in range(layers))
        self.final_layer_norm = nn.LayerNorm(hidden)
        self.text_projection = nn.Linear(hidden, hidden, bias=False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, output_hidden_states: bool = True) -> Any:
        x = self.token(input_ids) + self.position.weight[: input_ids.shape[1]]
        dtype, (b, n) = x.dtype, input_ids.shape
        low = torch.finfo(dtype).min
        causal = torch.full((n, n), low, dtype=dtype, device=x.device).triu(1)[None, None]
        padding = (1.0 - attention_mask[:, None, None, :].to(dtype)) * low
        mask = causal + padding
        head = self.hidden // self.heads
        for layer in self.layers:
            residual = x
            q, k, v = layer["qkv"](layer["layer_norm1"](x)).view(b, n, 3, self.heads, head).permute(2, 0, 3, 1, 4)
            weights = (q @ k.transpose(-1, -2)) * head**-0.5 + mask
            weights = torch.softmax(weights, dim=-1, dtype=torch.float32).to(q.dtype)
            x = residual + layer["out_proj"]((weights @ v).transpose(1, 2).reshape(b, n, self.hidden))
            h = layer["fc1"](layer["layer_norm2"](x))
            x = x + layer["fc2"](h * torch.sigmoid(1.702 * h))
        last = x
        pooled = self.final_layer_norm(x)[torch.arange(b, device=x.device), input_ids.argmax(-1)]
        return SimpleNamespace(text_embeds=self.text_projection(pooled), hidden_states=(last,))


def make_model() -> tuple[nn.Module, str]:
    torch.manual_seed(0)
    try:
        import transformers
        from transformers import CLIPTextConfig, CLIPTextModelWithProjection
    except ImportError:
        return StandInClip().eval(), "stand-in (transformers not installed)"
    config = CLIPTextConfig(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=4 * HIDDEN, num_hidden_layers=LAYERS,
                            num_attention_heads=HEADS, max_position_embeddings=TOKENS, projection_dim=HIDDEN,
                            hidden_act="gelu", eos_token_id=VOCAB - 1)
    try:
        config._attn_implementation = "eager"  # as export.load_diffusers loads the real one
    except (AttributeError, ValueError):  # a transformers version without the setter: its default attention
        pass
    return CLIPTextModelWithProjection(config).eval(), f"transformers {transformers.__version__}"


def mixed_layer_norms(path: Path) -> list[str]:
    import onnx

    model = onnx.shape_inference.infer_shapes(onnx.load(str(path)))
    types = {v.name: v.type.tensor_type.elem_type for v in [*model.graph.input, *model.graph.value_info, *model.graph.output]}
    types.update({t.name: t.data_type for t in model.graph.initializer})
    return [n.name for n in model.graph.node if n.op_type == "LayerNormalization"
            and len({types.get(i) for i in n.input[:2]}) > 1]


def traced_fp16(model: nn.Module, path: Path, example: dict[str, torch.Tensor]) -> None:
    """The export as it was: the module in float16, traced (float32 graph outputs)."""
    io = bundle.IO["textEncoder"]
    ins = [io["inputs"]["inputIds"], io["inputs"]["attentionMask"]]
    outs = [io["outputs"]["pooled"], io["outputs"]["hidden"]]
    axes = {name: {0: "batch"} for name in ins + outs}
    graph = graphs.TextEncoderGraph(model.half(), torch.float32).eval()
    graphs._export(graph, (example[ins[0]], example[ins[1]]), path, ins, outs, axes)


def check(path: Path, feeds: dict[str, np.ndarray], reference: dict[str, np.ndarray]) -> dict[str, Any]:
    import onnxruntime as ort

    result: dict[str, Any] = {"mixedLayerNorms": mixed_layer_norms(path)}
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime's own exception types
        result.update(loads=False, error=str(error)[:400])
        return result
    outputs = dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds)))
    result.update(loads=True, outputTypes={o.name: o.type for o in session.get_outputs()},
                  maxAbsDiff={k: float(np.max(np.abs(outputs[k].astype(np.float32) - v))) for k, v in reference.items()},
                  maxAbsTorch={k: float(np.max(np.abs(v))) for k, v in reference.items()})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    io = bundle.IO["textEncoder"]
    ids = np.tile((np.arange(TOKENS, dtype=np.int64) * 37) % (VOCAB - 1), (2, 1))
    ids[:, 12] = VOCAB - 1  # end of text
    mask = np.ones_like(ids)
    mask[1, 13:] = 0  # the second prompt padded after its end
    feeds = {io["inputs"]["inputIds"]: ids, io["inputs"]["attentionMask"]: mask}
    report: dict[str, Any] = {"torch": torch.__version__, "cases": []}
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        model, report["model"] = make_model()
        with torch.no_grad():
            out = graphs.TextEncoderGraph(model.float(), torch.float32)(torch.from_numpy(ids), torch.from_numpy(mask))
        reference = {io["outputs"]["pooled"]: out[0].numpy(), io["outputs"]["hidden"]: out[1].numpy()}
        example = {k: torch.from_numpy(v).to(device) for k, v in feeds.items()}
        with tempfile.TemporaryDirectory() as tmp:
            for method, io_dtype in (("traced-fp16", "float32"), ("exporter", "float32"), ("exporter", "float16")):
                path = Path(tmp) / f"{method}-{io_dtype}.onnx"
                case: dict[str, Any] = {"device": device, "method": method, "ioDtype": io_dtype}
                started = time.time()
                try:
                    copy, _ = make_model()
                    copy.load_state_dict(model.state_dict())
                    copy.to(device)
                    if method == "traced-fp16":
                        traced_fp16(copy, path, example)
                    else:
                        graphs.export_text_encoder(copy, path, "float16", example, io_dtype)
                    case.update(check(path, feeds, reference))
                    if method == "exporter":  # the exporter's own verification must pass too
                        outs = {k: io_dtype for k in reference}
                        bundle.verify_graph(path, [feeds], {k: "int64" for k in feeds}, outs,
                                            reference=lambda _: reference, atol=2e-2)
                        case["exporterVerification"] = "passed"
                except Exception as error:  # record and go on with the next case
                    case["error"] = f"{type(error).__name__}: {str(error)[:400]}"
                case["seconds"] = round(time.time() - started, 1)
                report["cases"].append(case)
                print(json.dumps(case), flush=True)
    args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
