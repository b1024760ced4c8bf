"""GPU baseline, PyTorch side: real-size Stage C and Stage B (diffusers StableCascadeUNet, big configs, random
weights), exported fp16 with our exporter, timed in PyTorch on the SAME weights and computation (the exported
wrapper: fp16 with fp32 islands), eager and with CUDA graphs; plus plain bf16 as in cascade-spec §6.1.
Writes <out>/index.json + raw input/reference tensors for bench/cascade-gpu-step.ts, and <results> (JSON).

    PYTHONPATH=tools/export:<diffusers src> python3 tools/export/bench_gpu.py --out /tmp/gpubench --results torch.json
"""
from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from cascade_export import graphs

RES, ATTN, TS = "SDCascadeResBlock", "SDCascadeAttnBlock", "SDCascadeTimestepBlock"
PRIOR_BIG = dict(in_channels=16, out_channels=16, timestep_ratio_embedding_dim=64, patch_size=1, conditioning_dim=2048,
                 block_out_channels=(2048, 2048), num_attention_heads=(32, 32), down_num_layers_per_block=(8, 24),
                 up_num_layers_per_block=(24, 8), down_blocks_repeat_mappers=(1, 1), up_blocks_repeat_mappers=(1, 1),
                 block_types_per_layer=((RES, TS, ATTN), (RES, TS, ATTN)), clip_text_in_channels=1280,
                 clip_text_pooled_in_channels=1280, clip_image_in_channels=768, clip_seq=4, kernel_size=3,
                 dropout=(0.1, 0.1), self_attn=True, timestep_conditioning_type=("sca", "crp"), switch_level=(False,))
DECODER_BIG = dict(in_channels=4, out_channels=4, timestep_ratio_embedding_dim=64, patch_size=2, conditioning_dim=1280,
                   block_out_channels=(320, 640, 1280, 1280), num_attention_heads=(0, 0, 20, 20),
                   down_num_layers_per_block=(2, 6, 28, 6), up_num_layers_per_block=(6, 28, 6, 2),
                   down_blocks_repeat_mappers=(1, 1, 1, 1), up_blocks_repeat_mappers=(3, 3, 2, 2),
                   block_types_per_layer=((RES, TS), (RES, TS), (RES, TS, ATTN), (RES, TS, ATTN)),
                   clip_text_pooled_in_channels=1280, clip_seq=4, effnet_in_channels=16, pixel_mapper_in_channels=3,
                   kernel_size=3, dropout=(0, 0, 0.1, 0.1), self_attn=True, timestep_conditioning_type=("sca",))


DEVICE = "cuda"


def build(config: dict[str, Any], seed: int) -> torch.nn.Module:
    from diffusers import StableCascadeUNet

    torch.manual_seed(seed)
    with torch.device(DEVICE):
        unet = StableCascadeUNet(**config).eval()
        with torch.no_grad():  # scaled random weights; residual branches damped so fp16 stays finite through ~60 blocks
            for p in unet.parameters():
                p.copy_(torch.randn_like(p) / (p[0].numel() ** 0.5) if p.dim() >= 2 else torch.randn_like(p) * 0.02)
            for name, p in unet.named_parameters():
                if name.endswith(("channelwise.4.weight", "to_out.0.weight", "mapper.weight", "mapper_sca.weight",
                                  "mapper_crp.weight")):
                    p.mul_(0.05)
    return unet


def cuda_event_times(fn: Callable[[], Any], iters: int = 10, warmup: int = 3) -> list[float]:
    """Milliseconds of each of `iters` calls after `warmup` untimed ones, timed by CUDA events (GPU time, not host)."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return times


def cuda_ms(fn: Callable[[], Any], iters: int = 10, warmup: int = 3) -> dict[str, float]:
    if DEVICE != "cuda":  # smoke test on a machine without a GPU
        for _ in range(warmup):
            fn()
        t0 = time.perf_counter()
        fn()
        return {"meanMs": (time.perf_counter() - t0) * 1000, "minMs": (time.perf_counter() - t0) * 1000}
    times = cuda_event_times(fn, iters, warmup)
    return {"meanMs": float(np.mean(times)), "minMs": float(np.min(times))}


def graph_ms(module: Callable[..., Any], args: tuple) -> dict[str, Any]:
    if DEVICE != "cuda":
        return {}
    try:
        return _graph_ms(module, args)
    except Exception as error:  # capture can fail on a host sync; record it and go on
        return {"error": repr(error)[:300]}


def _graph_ms(module: Callable[..., Any], args: tuple) -> dict[str, float]:
    static = tuple(a.clone() for a in args)
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream), torch.no_grad():
        for _ in range(3):
            module(*static)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph), torch.no_grad():
        module(*static)
    return cuda_ms(graph.replay)


def inputs_for(name: str, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    g = torch.Generator(device=DEVICE).manual_seed(1)
    r = lambda *s: torch.randn(*s, generator=g, device=DEVICE, dtype=torch.float32)  # noqa: E731
    if name == "prior":  # 1024², CFG: batch 2, 24×24
        return {"sample": r(2, 16, 24, 24).to(dtype), "timestep_ratio": torch.tensor([0.7, 0.7], device=DEVICE),
                "clip_text_pooled": r(2, 1, 1280).to(dtype), "clip_text": r(2, 77, 1280).to(dtype),
                "clip_img": torch.zeros(2, 1, 768, device=DEVICE, dtype=dtype)}
    return {"sample": r(1, 4, 256, 256).to(dtype), "timestep_ratio": torch.tensor([0.7], device=DEVICE),
            "clip_text_pooled": r(1, 1, 1280).to(dtype), "effnet": r(1, 16, 24, 24).to(dtype)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--only", default="decoder,prior")
    parser.add_argument("--smoke", action="store_true", help="CPU, reduced depth: checks the script, not the speed")
    args = parser.parse_args()
    global DEVICE
    if args.smoke:
        DEVICE = "cpu"
        PRIOR_BIG.update(down_num_layers_per_block=(1, 1), up_num_layers_per_block=(1, 1), block_out_channels=(256, 256),
                         num_attention_heads=(4, 4), conditioning_dim=256)
        DECODER_BIG.update(down_num_layers_per_block=(1, 1, 1, 1), up_num_layers_per_block=(1, 1, 1, 1),
                           block_out_channels=(32, 64, 128, 128), num_attention_heads=(0, 0, 2, 2), conditioning_dim=128)
    args.out.mkdir(parents=True, exist_ok=True)
    torch.backends.cuda.matmul.allow_tf32 = True
    results: dict[str, Any] = {"device": torch.cuda.get_device_name() if DEVICE == "cuda" else "cpu", "torch": torch.__version__}
    index: dict[str, Any] = {"graphs": []}
    for name in args.only.split(","):
        config, export = (PRIOR_BIG, graphs.export_prior) if name == "prior" else (DECODER_BIG, graphs.export_decoder)
        entry: dict[str, Any] = {}
        t0 = time.time()
        unet = build(config, seed=3)
        entry["params"] = sum(p.numel() for p in unet.parameters())
        bf16 = copy.deepcopy(unet).to(torch.bfloat16)
        bf16_in = inputs_for(name, torch.bfloat16)
        order = list(bf16_in)
        call = (lambda m: (lambda *a: m(a[0], a[1], a[2], clip_text=a[3], clip_img=a[4], return_dict=False))) if name == "prior" \
            else (lambda m: (lambda *a: m(a[0], a[1], a[2], effnet=a[3], return_dict=False)))
        with torch.no_grad():
            # as diffusers does: r in the model dtype (spec §5.1 notes the bf16 quantisation of r·10000)
            bf16_args = tuple(bf16_in[k].to(torch.bfloat16) for k in order)
            entry["torchBf16Eager"] = cuda_ms(lambda: call(bf16)(*bf16_args))
            entry["torchBf16CudaGraph"] = graph_ms(call(bf16), bf16_args)
        del bf16
        torch.cuda.empty_cache()
        results[name] = entry
        args.results.write_text(json.dumps(results, indent=1))
        fp16_in = inputs_for(name, torch.float32)  # fp16 weights, float32 graph I/O (the exporter's default)
        t1 = time.time()
        try:
            wrapped = export(unet, args.out / f"{name}.onnx", "float16", fp16_in, "float32")
        except Exception as error:  # keep the torch figures and go on with the next graph
            entry["exportError"] = repr(error)[:500]
            args.results.write_text(json.dumps(results, indent=1))
            del unet
            torch.cuda.empty_cache()
            continue
        entry["exportSeconds"] = time.time() - t1
        with torch.no_grad(), graphs._fp32_grn():
            fp16_args = tuple(fp16_in[k] for k in order)
            entry["torchFp16IslandsEager"] = cuda_ms(lambda: wrapped(*fp16_args))
            entry["torchFp16IslandsCudaGraph"] = graph_ms(wrapped, fp16_args)
            reference = wrapped(*fp16_args).float().cpu().numpy()
        spec = {"name": name, "file": f"{name}.onnx", "output": "eps", "reference": f"{name}-eps.f32", "inputs": []}
        for key, value in fp16_in.items():
            file = f"{name}-{key}.bin"
            value.cpu().numpy().tofile(args.out / file)
            spec["inputs"].append({"name": key, "dtype": "float16" if value.dtype == torch.float16 else "float32",
                                   "dims": list(value.shape), "file": file})
        reference.astype("<f4").tofile(args.out / spec["reference"])
        entry["referenceMaxAbs"] = float(np.abs(reference).max())
        entry["referenceFinite"] = bool(np.isfinite(reference).all())
        entry["seconds"] = time.time() - t0
        index["graphs"].append(spec)
        results[name] = entry
        print(name, json.dumps(entry), flush=True)
        (args.out / "index.json").write_text(json.dumps(index, indent=1))
        args.results.write_text(json.dumps(results, indent=1))
        del unet, wrapped
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
