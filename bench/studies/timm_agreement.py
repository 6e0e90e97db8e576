"""Our latency against timm's own ``benchmark.py``, side by side on one core.

    python -m bench.studies.timm_agreement --timm-benchmark /tmp/timm/benchmark.py [--models ...]

timm's script is not in the pip package: fetch it from timm's repository into a temporary folder
and pass its path (it is never copied into this project). For each model, the two harnesses run
alternately, ``--alternations`` times each (ours, timm, ours, timm, ...), as separate processes
pinned to the same core with one thread (timm's script takes its thread count from
OMP_NUM_THREADS), batch 1, the same input size and memory format. timm reports the mean step time
over its benchmark iterations; so we compare our mean per-forward time with it. A ratio within
+-5% is the target; the figures are printed and written as JSON with ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

MODELS = ("efficientnet_b0", "resnet50", "mobilenetv2_100")


def _pinned(core: int) -> list[str]:
    return ["taskset", "-c", str(core)]


def timm_mean_ms(script: Path, model: str, core: int, iterations: int, channels_last: bool) -> float:
    """timm's mean inference step time (ms) for one run of its script, at the model's default input size
    (``--img-size``: timm's script otherwise uses a pretrained tag's larger test size, 288 px for resnet50)."""
    from bench.models.registry import make_spec

    args = [
        *_pinned(core),
        sys.executable,
        str(script),
        "--model",
        model,
        "--bench",
        "inference",
        "-b",
        "1",
        "--device",
        "cpu",
        "--num-warm-iter",
        "10",
        "--num-bench-iter",
        str(iterations),
        "--img-size",
        str(make_spec(model).input_size),
    ]
    out = subprocess.run(
        args + (["--channels-last"] if channels_last else []),
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        check=True,
    ).stdout
    return float(json.loads(out[out.index("--result") + len("--result") :])["infer_step_time"])


def our_mean_ms(model: str, core: int, iterations: int, channels_last: bool) -> float:
    """Our mean per-forward time (ms) for one ``bench latency`` run."""
    args = [
        *_pinned(core),
        sys.executable,
        "-m",
        "bench",
        "latency",
        model,
        "--threads",
        "1",
        "--warmup",
        "10",
        "--iterations",
        str(iterations),
        "--min-time",
        "0",
        "--json",
    ]
    out = subprocess.run(
        args + (["--channels-last"] if channels_last else []),
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        check=True,
    ).stdout
    return float(json.loads(out)["latency_ms_mean"])


def compare(script: Path, model: str, core: int, alternations: int, iterations: int, channels_last: bool) -> dict:
    ours, theirs = [], []
    for _ in range(alternations):
        ours.append(our_mean_ms(model, core, iterations, channels_last))
        theirs.append(timm_mean_ms(script, model, core, iterations, channels_last))
    ratio = statistics.median(ours) / statistics.median(theirs)
    return {
        "model": model,
        "ours_mean_ms": ours,
        "timm_step_ms": theirs,
        "ratio_of_medians": round(ratio, 4),
        "within_5_percent": abs(ratio - 1) <= 0.05,
        "core": core,
        "iterations": iterations,
        "channels_last": channels_last,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timm-benchmark", type=Path, required=True, help="path to timm's benchmark.py")
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--core", type=int, default=max(os.sched_getaffinity(0)), help="the core both run on")
    parser.add_argument("--alternations", type=int, default=3, help="runs of each harness, alternated (default 3)")
    parser.add_argument("--iterations", type=int, default=60, help="timed forwards per run (default 60)")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    if not args.timm_benchmark.is_file():
        print(f"error: {args.timm_benchmark}: no such file (fetch timm's benchmark.py first)", file=sys.stderr)
        return 2
    rows = []
    for model in args.models:
        row = compare(args.timm_benchmark, model, args.core, args.alternations, args.iterations, args.channels_last)
        rows.append(row)
        ours, theirs = statistics.median(row["ours_mean_ms"]), statistics.median(row["timm_step_ms"])
        verdict = "within" if row["within_5_percent"] else "outside"
        print(
            f"{model}: ours {ours:.2f} ms, timm {theirs:.2f} ms, ratio {row['ratio_of_medians']:.3f} ({verdict} +-5%)"
        )
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
