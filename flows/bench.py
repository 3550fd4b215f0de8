"""`make bench`: fresh runs of the benchmark configurations, their figures and each step's wall time,
written to <out>/results.json and <out>/results.md. Later benchmarks add their entries here."""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import time
from pathlib import Path

from .flow import run_flow
from .report import build_report, write_report
from .run_config import RunConfig

# The demo's configuration (make demo), with every test image through the RTL.
BENCHMARKS = {"digits": RunConfig(dataset="digits", verify_images=None)}


def flatten(prefix: str, value, out: dict) -> dict:
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(f"{prefix}.{k}" if prefix else k, v, out)
    elif isinstance(value, (int, float, str)) or value is None:
        out[prefix] = value
    return out


FIGURES = [
    "accuracy.float", "accuracy.quantized_reference", "accuracy.rtl", "verify.images", "verify.mismatched_images",
    "verify.cycle_mismatches", "hardware.cycles_per_inference_mean", "hardware.cycles_over_bound",
    "hardware.clock_mhz", "hardware.latency_us_mean", "sops_per_inference_mean", "area.total_um2",
    "area.flip_flops", "timing.critical_path_ns", "timing.fmax_mhz", "energy.nj_per_inference",
    "energy.nj_per_inference_spread", "energy.pj_per_sop",
]


def run_benchmark(name: str, config: RunConfig, work: Path) -> dict:
    run_dir = work / f"run-{name}"
    shutil.rmtree(run_dir, ignore_errors=True)  # wall times must be measured, not cached
    start = time.perf_counter()
    records = run_flow(config.steps(), run_dir)
    report = build_report(config, records)
    report["total_seconds"] = round(time.perf_counter() - start, 1)
    write_report(run_dir, report)
    flat = flatten("", report, {})
    results = {f"{name}.{key}": flat[key] for key in FIGURES}
    for record in records:
        results[f"{name}.seconds.{record.id}"] = round(record.seconds, 2)
    results[f"{name}.seconds.total"] = report["total_seconds"]
    verify = next(r for r in records if r.id == "verify")
    results[f"{name}.rtl_simulation.images_per_s"] = round(verify.metrics["images"] / verify.seconds, 2)
    results[f"{name}.rtl_simulation.cycles_per_s"] = round(
        verify.metrics["images"] * verify.metrics["rtl_cycles_mean"] / verify.seconds, 0)
    return results


def markdown(results: dict, machine: str) -> str:
    lines = ["# spikefab benchmarks", "", f"Machine: {machine}. Made by `make bench`.", "",
             "| figure | value |", "| --- | --- |"]
    for key, value in results.items():
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        lines.append(f"| {key} | {shown} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.bench")
    parser.add_argument("--out", type=Path, default=Path("bench"))
    parser.add_argument("--only", choices=sorted(BENCHMARKS), nargs="*")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, config in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        print(f"benchmark {name} ...", file=sys.stderr, flush=True)
        results.update(run_benchmark(name, config, args.out))
    machine = f"{platform.node()}, {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    (args.out / "results.json").write_text(json.dumps({"machine": machine, "results": results}, indent=2))
    (args.out / "results.md").write_text(markdown(results, machine))
    print(markdown(results, machine))
    return 0


if __name__ == "__main__":
    sys.exit(main())
