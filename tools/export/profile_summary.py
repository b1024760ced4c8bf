"""Sum an onnxruntime profile (enableProfiling JSON) by operator type and execution provider.

    python3 tools/export/profile_summary.py profile-prior_*.json [--runs N] > summary.json

Node events (cat "Node", name "<node>_kernel_time") carry args.op_name and args.provider; their durations (µs) are
summed per (op, provider) and divided by the number of model runs in the profile (`model_run` events).
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict


def summarize(path: str) -> dict:
    events = json.load(open(path, encoding="utf-8"))
    runs = sum(1 for e in events if e.get("cat") == "Session" and e.get("name") == "model_run") or 1
    per_op: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0])
    for e in events:
        if e.get("cat") == "Node" and str(e.get("name", "")).endswith("_kernel_time"):
            args = e.get("args", {})
            key = (args.get("op_name", "?"), args.get("provider", "?"))
            per_op[key][0] += e.get("dur", 0)
            per_op[key][1] += 1
    run_us = [e.get("dur", 0) for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"]
    total = sum(v[0] for v in per_op.values())
    rows = sorted(per_op.items(), key=lambda kv: -kv[1][0])
    return {
        "file": path,
        "runs": runs,
        "modelRunMs": [round(us / 1000, 2) for us in run_us],
        "kernelMsPerRun": round(total / runs / 1000, 2),
        "byOp": [{"op": op, "provider": prov, "msPerRun": round(us / runs / 1000, 3), "share": round(us / total, 4) if total else 0,
                  "nodesPerRun": n // runs} for (op, prov), (us, n) in rows[:20]],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("profiles", nargs="+")
    args = parser.parse_args()
    print(json.dumps([summarize(p) for p in args.profiles], indent=1))
