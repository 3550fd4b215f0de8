"""`spikefab sweep`: one run per point, shared steps reused, a table and plots with the Pareto front."""

import json

from flows.cli import main
from flows.sweep import SweepPoint, pareto_flags


def row(accuracy, energy, area, latency):
    return SweepPoint(point="p", timesteps=4, weight_bits=8, lanes=4, accuracy=accuracy, nj_per_inference=energy,
                      energy_images=1, pj_per_sop=1.0, area_mm2=area, logic_nj_per_inference=energy, logic_mm2=area, latency_us=latency, fmax_mhz=100.0,
                      cycles_per_inference=100.0)


def test_the_pareto_front_keeps_the_points_nothing_beats():
    rows = [row(0.9, 10, 1, 5), row(0.9, 12, 1, 5), row(0.95, 20, 2, 5), row(0.85, 10, 1, 5), row(0.8, 5, 3, 9)]
    assert pareto_flags(rows) == [True, False, True, False, True]


def test_a_sweep_over_lanes_reuses_training_and_marks_the_front(tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", "--dataset", "digits", "--hidden", "12", "--epochs", "2", "--qat-epochs", "1",
                 "--timesteps", "3", "--lanes", "1", "4", "--verify-images", "3", "--energy-images", "1",
                 "--out", str(out)]) == 0
    progress = capsys.readouterr().err
    assert progress.count("train done (cached)") == 1, "the second point reuses the first one's training"
    rows = json.loads((out / "sweep.json").read_text())
    assert [r["lanes"] for r in rows] == [1, 4] and any(r["pareto"] for r in rows)
    assert rows[0]["accuracy"] == rows[1]["accuracy"], "lanes change the hardware, not the network"
    assert rows[0]["latency_us"] > rows[1]["latency_us"] and rows[0]["area_mm2"] < rows[1]["area_mm2"]
    table = (out / "sweep.md").read_text()
    assert (out / "sweep.png").stat().st_size > 0 and table.count("| T3-W8-L4 |") == 2
    # Measured and modelled figures in tables of their own: the logic's energy only in the first.
    measured, modelled = table.split("## Modelled")
    assert "logic_nj_per_inference" in measured and "logic_nj_per_inference" not in modelled
    assert "| nj_per_inference" in modelled and "| nj_per_inference" not in measured
