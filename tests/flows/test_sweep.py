"""`spikefab sweep`: shared work done once, points as tasks on Dask distributed or in this process
with the same table, a failed point reported while the rest go on, a sweep run again resumed."""

import json

import pytest

from flows.cli import main
from flows.design_point import DesignPoint, design_points
from flows.sweep import SweepPoint, pareto_flags
from model.architecture import MemoryStyle


def row(accuracy, energy, area, latency):
    return SweepPoint(point="p", timesteps=4, weight_bits=8, lanes=4, memories="flip-flops", weight_bank_words=None,
                      spike_batch=1, exit_tolerance=None, accuracy=accuracy, nj_per_inference=energy, energy_images=1, pj_per_sop=1.0,
                      area_mm2=area, logic_nj_per_inference=energy, logic_mm2=area, latency_us=latency, fmax_mhz=100.0,
                      cycles_per_inference=100.0, nj_per_inference_28nm=energy / 20, pj_per_sop_28nm=0.05)


def test_the_pareto_front_keeps_the_points_nothing_beats():
    rows = [row(0.9, 10, 1, 5), row(0.9, 12, 1, 5), row(0.95, 20, 2, 5), row(0.85, 10, 1, 5), row(0.8, 5, 3, 9)]
    assert pareto_flags(rows) == [True, False, True, False, True]


def test_banking_applies_to_macro_points_only_and_names_are_unique():
    points = design_points(timesteps=[3], weight_bits=[8], lanes=[4], weight_bank_words=[None, 16],
                           memories=[MemoryStyle.FLIP_FLOPS, MemoryStyle.SRAM_MACROS], exit_tolerances=[None, 0.01])
    assert [p.name for p in points] == ["T3-W8-L4", "T3-W8-L4-E0.01", "T3-W8-L4-SRAM", "T3-W8-L4-SRAM-E0.01",
                                        "T3-W8-L4-SRAM-B16", "T3-W8-L4-SRAM-B16-E0.01"]
    assert len({p.training_group for p in points}) == 1 and points[0] == DesignPoint(timesteps=3, weight_bits=8, lanes=4)
    batched = design_points(timesteps=[3], weight_bits=[8], lanes=[4], weight_bank_words=[None],
                            memories=[MemoryStyle.FLIP_FLOPS], exit_tolerances=[None], spike_batches=[1, 16])
    assert [p.name for p in batched] == ["T3-W8-L4", "T3-W8-L4-S16"]


SWEEP = ["sweep", "--dataset", "digits", "--hidden", "12", "--epochs", "2", "--qat-epochs", "1", "--timesteps", "3",
         "--lanes", "4", "--memories", "sram-macros", "--weight-bank-words", "16", "--spike-batch", "1", "4",
         "--verify-images", "3", "--energy-images", "2"]
UNBATCHED, BATCHED = "T3-W8-L4-SRAM-B16", "T3-W8-L4-SRAM-B16-S4"


@pytest.fixture(scope="module")
def serial_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "sweep"
    assert main([*SWEEP, "--scheduler", "serial", "--out", str(out)]) == 0
    return out


def test_a_serial_sweep_shares_training_and_marks_the_front(serial_sweep):
    sweep = json.loads((serial_sweep / "sweep.json").read_text())
    rows = sweep["points"]
    assert sweep["failed"] == {}
    assert [r["point"] for r in rows] == [UNBATCHED, BATCHED]
    assert len({r["accuracy"] for r in rows}) == 1, "the hardware changes, not the network"
    assert any(r["pareto"] for r in rows)
    by_name = {r["point"]: r for r in rows}
    # A spike batch: a cycle more per input spike, and the buffer and the held sums in logic.
    assert by_name[BATCHED]["cycles_per_inference"] > by_name[UNBATCHED]["cycles_per_inference"]
    assert by_name[BATCHED]["logic_mm2"] > by_name[UNBATCHED]["logic_mm2"]
    assert (by_name[BATCHED]["spike_batch"], by_name[UNBATCHED]["spike_batch"]) == (4, 1)
    # Training ran once, in the shared folder; every point's train step is that one, copied.
    network = (serial_sweep / "shared" / "T3" / "02-train" / "float_model.pt")
    assert all((serial_sweep / name / "02-train" / "float_model.pt").read_bytes() == network.read_bytes()
               for name in by_name)
    table = (serial_sweep / "sweep.md").read_text()
    assert (serial_sweep / "sweep.png").stat().st_size > 0 and table.count(f"| {BATCHED} |") == 3
    # Measured, modelled and estimated figures in tables of their own.
    measured, rest = table.split("## Modelled")
    modelled, estimated = rest.split("## Estimated")
    assert "logic_nj_per_inference" in measured and "logic_nj_per_inference" not in modelled
    assert "| nj_per_inference |" in modelled.replace(" | ", " |\n| ") and "nj_per_inference_28nm" in estimated


def test_a_sweep_on_a_local_dask_cluster_gives_the_serial_table(serial_sweep, tmp_path):
    out = tmp_path / "sweep"
    assert main([*SWEEP, "--scheduler", "local", "--workers", "2", "--out", str(out)]) == 0
    assert (out / "sweep.md").read_text() == (serial_sweep / "sweep.md").read_text()
    assert json.loads((out / "sweep.json").read_text()) == json.loads((serial_sweep / "sweep.json").read_text())


def test_a_failed_point_is_reported_and_a_sweep_run_again_resumes(serial_sweep, tmp_path, capsys, monkeypatch):
    import re
    import shutil

    import flows.report.build as build

    out = tmp_path / "sweep"
    shutil.copytree(serial_sweep, out)
    shutil.rmtree(out / UNBATCHED)
    real = build.run_and_report

    def fails_on_one_point(config, folder, **kw):  # the flow breaks for this point only
        if folder.name == UNBATCHED:
            raise RuntimeError("synthesis ran out of memory")
        return real(config, folder, **kw)

    monkeypatch.setattr(build, "run_and_report", fails_on_one_point)
    assert main([*SWEEP, "--scheduler", "serial", "--out", str(out)]) == 1
    assert f"point {UNBATCHED} failed: RuntimeError: synthesis ran out of memory" in capsys.readouterr().err
    sweep = json.loads((out / "sweep.json").read_text())
    assert list(sweep["failed"]) == [UNBATCHED] and len(sweep["points"]) == 1
    assert f"| {UNBATCHED} | RuntimeError: synthesis ran out of memory |" in (out / "sweep.md").read_text()

    # A step the point holds under another key (made by other code) is replaced by the shared one,
    # not redone in the point's folder.
    stale = out / BATCHED / "02-train" / "step.json"
    record = json.loads(stale.read_text())
    stale.write_text(json.dumps({**record, "key": "made-by-other-code"}))
    # Run again: the failed point runs (from the shared quantized network), the others are all cached.
    monkeypatch.setattr(build, "run_and_report", real)
    assert main([*SWEEP, "--scheduler", "serial", "--out", str(out)]) == 0
    redone = re.findall(r"\] (\S+) done \((?!cached)", capsys.readouterr().err)
    assert redone == ["reference", "compile", "verify", "synth", "timing", "power"]
    assert json.loads((out / "sweep.json").read_text()) == json.loads((serial_sweep / "sweep.json").read_text())
    assert json.loads(stale.read_text()) == record


def test_a_benchmark_point_changes_only_what_the_point_sets():
    from flows.benchmarks.bench import BENCHMARKS
    from flows.benchmarks.sweep_benchmark import point_config

    entry = BENCHMARKS["sweep"]
    assert len(entry.points) == 8
    point = DesignPoint(timesteps=4, weight_bits=4, lanes=32, memories=MemoryStyle.SRAM_MACROS, weight_bank_words=256,
                        exit_tolerance=0.01, spike_batch=16)
    config = point_config(entry.base, point)
    assert (config.network.timesteps, config.quantization.weight_bits, config.architecture.lanes,
            config.architecture.weight_bank_words, config.architecture.spike_batch,
            config.early_exit.tolerance) == (4, 4, 32, 256, 16, 0.01)
    assert config.training == entry.base.training and config.network.hidden == entry.base.network.hidden
    assert point_config(entry.base, DesignPoint(timesteps=8, weight_bits=8, lanes=8)).early_exit is None


def test_plot_labels_drop_what_every_point_shares():
    from flows.sweep import short_labels

    labels, common = short_labels(["T8-W4-L8-SRAM-B256", "T8-W8-L8-SRAM-B256-S32", "T8-W4-L32-SRAM-B256"])
    assert labels == ["W4-L8", "W8-L8-S32", "W4-L32"] and common == "T8-SRAM-B256"
    assert short_labels(["T8"]) == (["T8"], "T8")
