"""The whole flow on a tiny digits configuration, through the CLI, once per session."""

import json

import numpy as np
import pytest

from flows.cli import main

# One worker runs this file, so the tiny flow (the module fixture) runs once.
pytestmark = pytest.mark.xdist_group("tiny_run")

TINY = ["--dataset", "digits", "--hidden", "16", "--timesteps", "4", "--epochs", "4", "--qat-epochs", "1",
        "--verify-images", "12", "--energy-images", "2", "--lanes", "4"]

REQUIRED_KEYS = [
    "schema_version", "dataset", "network", "timesteps", "accuracy.float_model", "accuracy.quantized_reference",
    "accuracy.rtl", "accuracy.rtl_images", "verify.simulator", "verify.images", "verify.mismatched_images",
    "verify.cycle_mismatches", "hardware.lanes", "hardware.weight_bits", "hardware.clock_mhz",
    "hardware.cycles_per_inference_mean", "hardware.cycles_over_sop_floor", "hardware.sops_per_inference_mean",
    "area.library", "area.total_um2", "area.by_block_um2", "energy.method", "energy.images",
    "energy.nj_per_inference", "energy.nj_per_inference_ci95", "energy.pj_per_sop",
]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["run", *TINY, "--out", str(out)]) == 0
    return out


def lookup(report, dotted):
    value = report
    for part in dotted.split("."):
        value = value[part]
    return value


def test_report_has_every_key_and_no_mismatch(tiny_run):
    report = json.loads((tiny_run / "report.json").read_text())
    for key in REQUIRED_KEYS:
        lookup(report, key)
    assert report["verify"]["mismatched_images"] == 0 and report["verify"]["cycle_mismatches"] == 0
    assert report["verify"]["images"] == 12 and report["verify"]["simulator"] == "icarus"
    assert report["network"] == [64, 16, 10]
    assert report["area"]["total_um2"] > 0 and report["energy"]["nj_per_inference"] > 0
    assert report["energy"]["activity_coverage"] == 1.0
    assert report["energy"]["activity_source"] == "compiled:gate-level"  # the default gate-level simulation
    assert report["accuracy"]["quantized_reference"] == report["accuracy"]["quantized_torch"]
    assert (tiny_run / "report.md").read_text().startswith("# spikefab run report")


def test_the_report_says_how_many_images_stand_behind_each_figure(tiny_run):
    report = json.loads((tiny_run / "report.json").read_text())
    assert report["accuracy"]["rtl_images"] == 12 and report["accuracy"]["reference_images"] == 360
    energy = report["energy"]
    low, high = energy["nj_per_inference_ci95"]
    assert energy["images"] == 2 and low < energy["nj_per_inference"] < high
    low, high = energy["logic_nj_per_inference_ci95"]
    assert low < energy["logic_nj_per_inference"] < high
    # Flip-flop memories: no modelled part, so the total is the logic's measured energy.
    assert energy["nj_per_inference"] == pytest.approx(energy["logic_nj_per_inference"])
    hardware = report["hardware"]
    floor = hardware["sops_per_inference_mean"] / hardware["lanes"]
    assert hardware["cycles_sop_floor_mean"] == pytest.approx(floor)
    assert hardware["cycles_over_sop_floor"] == pytest.approx(hardware["cycles_per_inference_mean"] / floor)
    # SOPs / lanes bounds every design: the core cannot beat it, and its own floor is higher still.
    assert hardware["cycles_over_sop_floor"] >= hardware["cycles_over_no_stall_floor"] >= 1
    markdown = (tiny_run / "report.md").read_text()
    assert markdown.index("## Measured") < markdown.index("## Estimated")
    assert f"95% CI {low:.1f}-{high:.1f} over 2 images" in markdown


def test_area_by_block_adds_up_to_the_hierarchical_synthesis(tiny_run):
    area = json.loads((tiny_run / "report.json").read_text())["area"]
    blocks = area["by_block_um2"]
    assert sum(blocks.values()) == pytest.approx(area["hierarchical_total_um2"])
    for block in ("weight_memory", "membrane_memory", "datapath", "readout", "control"):
        assert blocks[block] > 0, block
    assert blocks["encoder"] == 0, "this core has no on-chip encoder"
    # Boundaries stop some optimisation: the hierarchical total is not below the flat one.
    assert area["hierarchical_total_um2"] >= area["total_um2"]
    assert "Area by block" in (tiny_run / "report.md").read_text()


def test_scaled_figures_stand_apart_from_the_measured_ones(tiny_run):
    report = json.loads((tiny_run / "report.json").read_text())
    nodes = report["scaled_estimate"]["nodes"]
    measured = report["energy"]["nj_per_inference"]
    assert set(nodes) == {"45nm", "40nm", "28nm"} and nodes["28nm"]["dynamic_nj_per_inference"] < measured
    assert "scaled" not in json.dumps(report["energy"]), "no scaled figure among the measured ones"
    assert "## Estimated: scaled to newer nodes, not measured" in (tiny_run / "report.md").read_text()


def test_the_cross_checks_stand_beside_the_gate_level_figure(tiny_run):
    energy = json.loads((tiny_run / "report.json").read_text())["energy"]
    terms = energy["analytical_terms_nj"]
    assert all(value > 0 for value in terms.values()) and set(terms) == {"clock", "synaptic_ops", "neuron_updates"}
    assert energy["analytical_nj_per_inference"] == pytest.approx(sum(terms.values()))
    assert energy["analytical_over_gate_level"] == pytest.approx(
        energy["analytical_nj_per_inference"] / energy["nj_per_inference"])
    # Two independent routes to one figure: they should agree within an order of magnitude.
    assert 0.1 < energy["analytical_over_gate_level"] < 10
    sta = energy["opensta_cross_check"]
    assert 0 < sta["input_activity_per_cycle"] < 1 and sta["power_mw"] > 0
    assert sta["over_gate_level"] == pytest.approx(sta["nj_per_inference"] / energy["nj_per_inference"])


def test_energy_per_sop_is_the_energy_over_the_operations(tiny_run):
    energy = json.loads((tiny_run / "09-power" / "energy.json").read_text())
    each = np.array(energy["nj_per_inference_each"])
    assert each.shape == (2,) and (each > 0).all()
    assert energy["pj_per_sop"] == pytest.approx(each.sum() * 1000 / (energy["sops_per_inference_mean"] * 2))
    by_class = energy["nj_per_inference_by_class"]
    assert 1 <= len(by_class) <= 2 and min(by_class.values()) >= each.min() and max(by_class.values()) <= each.max()
    split = energy["breakdown_nj_per_inference"]
    assert sum(split.values()) == pytest.approx(energy["nj_per_inference"])


def test_energy_splits_by_category_from_the_blocks_of_the_hierarchical_netlist(tiny_run):
    energy = json.loads((tiny_run / "09-power" / "energy.json").read_text())
    split, blocks = energy["breakdown"], energy["logic_by_block_nj_per_inference_hierarchical"]
    assert set(split) == {"memory_reads", "membrane_updates", "control", "leakage"}
    assert sum(split.values()) == pytest.approx(energy["nj_per_inference"])
    assert all(split[k] > 0 for k in split)
    # Flip-flop memories are logic: the weight memory block toggles and costs energy.
    assert blocks["weight_memory"] > 0 and blocks["datapath"] > 0 and blocks["control"] > 0
    # The hierarchical netlist is mapped a little differently from the flat one, not very differently.
    logic = energy["breakdown_nj_per_inference"]["switching"] + energy["breakdown_nj_per_inference"]["internal"]
    assert 0.5 < sum(blocks.values()) / logic < 2


def test_a_second_run_reuses_every_step(tiny_run, capsys):
    assert main(["run", *TINY, "--out", str(tiny_run)]) == 0
    progress = capsys.readouterr().err
    assert progress.count("(cached)") == 9


def test_the_number_of_simulator_processes_reuses_the_verification(tiny_run, capsys):
    assert main(["run", *TINY, "--simulator-processes", "1", "--out", str(tiny_run)]) == 0
    assert capsys.readouterr().err.count("(cached)") == 9


def test_verify_command_splits_the_images_over_processes(tiny_run, tmp_path):
    out = tmp_path / "verify"
    assert main(["verify", "--network", str(tiny_run / "03-quantize" / "network.npz"), "--images", "5",
                 "--lanes", "4", "--simulator-processes", "2", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["verify"]["simulator_processes"] == 2 and report["verify"]["mismatched_images"] == 0
    assert len(list((out / "rtl").glob("slice*/observation.npz"))) == 2


def test_changing_the_lanes_redoes_only_the_hardware_steps(tiny_run, tmp_path, capsys):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(tiny_run, copy)
    args = [a if a != "4" or i != TINY.index("--lanes") + 1 else "2" for i, a in enumerate(TINY)]
    assert main(["run", *args, "--out", str(copy)]) == 0
    progress = capsys.readouterr().err
    for step in ("encode", "train", "quantize"):
        assert f"{step} done (cached)" in progress
    for step in ("reference", "compile", "verify", "synth"):
        assert f"{step} done (cached)" not in progress
    report = json.loads((copy / "report.json").read_text())
    assert report["hardware"]["lanes"] == 2 and report["verify"]["mismatched_images"] == 0


def test_verify_command_writes_a_report(tiny_run, tmp_path):
    out = tmp_path / "verify"
    assert main(["verify", "--network", str(tiny_run / "03-quantize" / "network.npz"), "--images", "5",
                 "--lanes", "3", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["verify"]["images"] == 5 and report["verify"]["mismatched_images"] == 0
    assert 0 <= report["accuracy"]["rtl"] <= 1


def test_verify_command_with_the_on_chip_encoder(tiny_run, tmp_path):
    out = tmp_path / "verify"
    assert main(["verify", "--network", str(tiny_run / "03-quantize" / "network.npz"), "--images", "4",
                 "--lanes", "4", "--encoder-lanes", "8", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["kind"] == "verify" and report["config"]["architecture"]["encoder"]["lanes"] == 8
    assert report["verify"]["images"] == 4 and report["verify"]["mismatched_images"] == 0
    assert "pixels_in__payload" in (out / "rtl" / "spikefab_core.v").read_text()


def test_the_report_compares_the_two_input_interfaces(tiny_run):
    bits = json.loads((tiny_run / "report.json").read_text())["hardware"]["interface_bits_per_inference"]
    # digits: 64 pixels in 8 words of 8 lanes x 8 bits; events: (spikes + 1 marker) per step x 7 bits.
    assert bits["on_chip_encoder"] == 64 * 8
    assert bits["events_mean"] > 4 * 7


def test_early_exit_is_calibrated_and_verified_on_the_rtl(tmp_path):
    out = tmp_path / "exit"
    assert main(["run", *TINY, "--timesteps", "6", "--early-exit", "--exit-tolerance", "0.01", "--until", "verify",
                 "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    exit_ = report["early_exit"]
    calibration = exit_["calibration"]
    assert exit_["avg_timesteps"] < 6 and calibration["validation_images"] == 143  # a tenth of digits' 1437
    assert calibration["validation_accuracy_exit"] >= calibration["validation_accuracy_full"] - 0.01
    assert report["accuracy"]["deployed_with_early_exit"] is True
    assert report["accuracy"]["quantized_reference"] == exit_["accuracy"]
    assert report["verify"]["mismatched_images"] == 0 and report["verify"]["cycle_mismatches"] == 0
    curve = json.loads((out / "04-calibrate-exit" / "exit_curve.json").read_text())
    assert curve["front"][-1]["accuracy"] >= curve["full_accuracy"]
    assert "Early exit (SEENN-I, integer)" in (out / "report.md").read_text()


def test_no_qat_epochs_exports_the_post_training_quantized_network(tiny_run, tmp_path):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(tiny_run, copy)
    args = [a if a != "1" or i != TINY.index("--qat-epochs") + 1 else "0" for i, a in enumerate(TINY)]
    assert main(["run", *args, "--until", "reference", "--out", str(copy)]) == 0
    quantize = json.loads((copy / "03-quantize" / "metrics.json").read_text())
    assert quantize["qat_seconds"] == 0
    assert quantize["accuracy_quantized_torch"] == quantize["accuracy_post_training_quantization"]
    report = json.loads((copy / "report.json").read_text())
    assert report["accuracy"]["quantized_reference"] == quantize["accuracy_quantized_torch"]


def test_a_flow_stopped_after_training_reports_what_it_measured(tmp_path):
    out = tmp_path / "short"
    assert main(["run", *TINY, "--backprop", "rate", "--until", "quantize", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["stopped_after"] == "quantize" and 0 < report["accuracy"]["quantized_torch"] <= 1
    assert report["hardware"] is None and not (out / "04-reference").exists()
    assert not (out / "report.png").exists()


def test_a_convolutional_network_trains_distilled_from_a_convolutional_teacher(tmp_path):
    out = tmp_path / "distilled"
    assert main(["run", *TINY, "--conv", "4:3:2:1", "--distill", "hta-kl", "--teacher-hidden", "32",
                 "--teacher-epochs", "30", "--until", "train", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert 0.8 < report["accuracy"]["teacher_ann"] <= 1 and 0 < report["accuracy"]["float_model"] <= 1
    # Every layer, the convolution's 4x4x4 output maps included, as the compiled network counts them.
    assert report["network"] == [64, 4 * 4 * 4, 16, 10]


def test_a_batch_normalised_convolutional_network_is_folded_and_verified_on_the_rtl(tmp_path):
    out = tmp_path / "normalised"
    assert main(["run", *TINY, "--conv", "4:3:2:1", "--batch-norm", "--until", "verify", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    accuracy = report["accuracy"]
    # The folded network is what QAT trained and export wrote: the reference agrees with torch on
    # every test image, and the RTL with the reference.
    assert accuracy["reference_agrees_with_torch"] == 1.0 and accuracy["quantized_reference"] > 0.5
    assert report["verify"]["mismatched_images"] == 0 and report["verify"]["cycle_mismatches"] == 0
    assert report["verify"]["images"] == 12


def test_sram_macros_take_the_memories_out_of_the_logic(tiny_run, tmp_path, capsys):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(tiny_run, copy)
    assert main(["run", *TINY, "--memories", "sram-macros", "--out", str(copy)]) == 0
    progress = capsys.readouterr().err
    for step in ("encode", "train", "quantize", "reference"):
        assert f"{step} done (cached)" in progress
    for step in ("compile", "verify", "synth", "timing", "power"):  # the power step re-checks the gate level
        assert f"{step} done (cached)" not in progress
    flops = json.loads((tiny_run / "report.json").read_text())
    report = json.loads((copy / "report.json").read_text())
    area, energy = report["area"], report["energy"]
    assert report["verify"]["mismatched_images"] == 0 and report["verify"]["cycle_mismatches"] == 0
    assert area["memory_style"] == "sram-macros" and "Horowitz" in area["memory_model"] == energy["memory_model"]
    assert area["total_um2"] == pytest.approx(area["logic_um2"] + area["sram_macros_um2"])
    assert area["logic_um2"] < flops["area"]["total_um2"] and area["flip_flops"] < flops["area"]["flip_flops"]
    macros = json.loads((copy / "07-synth" / "sram_macros.json").read_text())["macros"]
    assert sorted(macros) == sorted(f"sram_layer{k}_{m}" for k in (0, 1) for m in ("weights", "biases", "membranes"))
    assert sum(m["area_um2"] for m in macros.values()) == pytest.approx(area["sram_macros_um2"])
    assert area["by_block_um2"]["weight_memory"] == pytest.approx(
        macros["sram_layer0_weights"]["area_um2"] + macros["sram_layer1_weights"]["area_um2"])
    netlist = (copy / "07-synth" / "netlist.v").read_text()
    assert all(f"{name} " in netlist for name in macros), "every macro is an instance in the netlist"
    split = energy["breakdown"]
    assert sum(split.values()) == pytest.approx(energy["nj_per_inference"])
    # The macros' accesses are part of the memory reads and membrane updates, never of control.
    assert split["memory_reads"] + split["membrane_updates"] > energy["breakdown_nj_per_inference"][
        "sram_macro_accesses"] > 0 and split["control"] > 0
    blocks = energy["logic_by_block_nj_per_inference_hierarchical"]
    # The memory blocks hold no cells, only the nets into their macros' pins (driving a macro's address
    # and data is part of accessing it): a small share of the logic's energy.
    memory_blocks = blocks["weight_memory"] + blocks["bias_memory"] + blocks["membrane_memory"]
    assert 0 < memory_blocks < 0.1 * sum(blocks.values())
    assert 0.1 < energy["analytical_over_gate_level"] < 10 and energy["activity_coverage"] == 1.0
    terms = energy["analytical_terms_nj"]
    assert terms["sram_macro_accesses"] == pytest.approx(energy["breakdown_nj_per_inference"]["sram_macro_accesses"])
    assert energy["analytical_nj_per_inference"] == pytest.approx(sum(terms.values()))


PROJECT_PACKAGES = ("hw", "model", "sim", "flows")
HARDWARE_STEPS = ("reference", "compile", "verify")
MODEL_STEPS = ("encode", "train", "quantize")


def _project_copy(tmp_path):
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    copy = tmp_path / "project"
    for package in PROJECT_PACKAGES:
        shutil.copytree(root / package, copy / package, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _run_in(project, run_dir, *extra):
    """The CLI of the project copy (its packages first on the path), up to verify."""
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "flows.cli", "run", *TINY, "--until", "verify", "--out",
                           str(run_dir), *extra], cwd=project, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(project)})
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stderr


def _cached_steps(progress):
    return {step for step in (*MODEL_STEPS, *HARDWARE_STEPS) if f"{step} done (cached)" in progress}


def test_a_code_change_redoes_the_steps_that_run_that_code(tiny_run, tmp_path):
    import shutil

    project = _project_copy(tmp_path)
    run_dir = tmp_path / "run"
    shutil.copytree(tiny_run, run_dir)
    core = project / "hw" / "core.py"
    # A comment changes no code: everything is reused.
    core.write_text(core.read_text() + "\n# a comment changes nothing that runs\n")
    assert _cached_steps(_run_in(project, run_dir)) == {*MODEL_STEPS, *HARDWARE_STEPS}
    # A statement does: the steps whose code imports hw/core.py run again, training does not.
    core.write_text(core.read_text() + "EDITED_FOR_THE_CACHE_TEST = True\n")
    assert _cached_steps(_run_in(project, run_dir)) == set(MODEL_STEPS)
    report = json.loads((run_dir / "report.json").read_text())
    assert report["verify"]["mismatched_images"] == 0
    # And once redone, the edited code's results are reused.
    assert _cached_steps(_run_in(project, run_dir)) == {*MODEL_STEPS, *HARDWARE_STEPS}


def test_a_damaged_output_redoes_its_step(tiny_run, tmp_path, capsys):
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(tiny_run, run_dir)
    network = run_dir / "03-quantize" / "network.npz"
    network.write_bytes(network.read_bytes()[:100])
    args = [*TINY, "--until", "verify", "--out", str(run_dir)]
    assert main(["run", *args]) == 0
    progress = capsys.readouterr().err
    assert "quantize done (cached)" not in progress and "train done (cached)" in progress
    assert network.stat().st_size > 100


def test_the_network_file_records_the_input_code_and_verify_holds_to_it(tiny_run, tmp_path, capsys):
    import dataclasses

    from model.compiled import CompiledNetwork, Encoding

    path = tiny_run / "03-quantize" / "network.npz"
    assert CompiledNetwork.load(path).encoding is Encoding.RATE
    out = tmp_path / "verify"
    assert main(["verify", "--network", str(path), "--images", "2", "--input-code", "latency", "--out", str(out)]) == 2
    assert "--input-code latency does not match the network, which was trained on the rate code" in \
        capsys.readouterr().err
    relabelled = dataclasses.replace(CompiledNetwork.load(path), class_names=tuple("abcdefghij"))
    other = relabelled.save(tmp_path / "relabelled.npz")
    assert main(["verify", "--network", str(other), "--images", "2", "--out", str(out)]) == 2
    assert "the network was trained on classes a, b" in capsys.readouterr().err
    assert not out.exists()


def test_every_compiled_core_comes_with_its_datasheet(tiny_run):
    folder = tiny_run / "05-compile"
    datasheet = (folder / "datasheet.md").read_text()
    assert datasheet.startswith("# spikefab_core: datasheet") and "64-16-10 network" in datasheet
    assert "| `events_in__payload` | in | 7 |" in datasheet and "input_error" in datasheet
    assert (folder / "datasheet_waveform.png").stat().st_size > 0


def test_banked_weight_macros_cost_a_bank_per_read_and_a_multiplexer(tiny_run, tmp_path):
    import shutil

    from flows.energy.sram_macros import read_energy_pj
    from hw.sram_macro import SramMacroShape

    copy = tmp_path / "run"
    shutil.copytree(tiny_run, copy)
    assert main(["run", *TINY, "--memories", "sram-macros", "--weight-bank-words", "16", "--out", str(copy)]) == 0
    report = json.loads((copy / "report.json").read_text())
    area, energy = report["area"], report["energy"]
    assert report["verify"]["mismatched_images"] == 0 and report["verify"]["cycle_mismatches"] == 0
    macros = json.loads((copy / "07-synth" / "sram_macros.json").read_text())["macros"]
    # Layer 0 (64 inputs x 4 words of 4 lanes = 256 words) in 16 banks of 16 words; layer 1 (16 x 3) in 3.
    banks = [name for name in macros if "_weights_bank" in name]
    assert len(banks) == 16 + 3 and not any(name.endswith("_weights") for name in macros)
    whole = SramMacroShape(name="sram_layer0_weights", width=macros["sram_layer0_weights_bank0"]["width"], depth=256)
    assert macros["sram_layer0_weights_bank0"]["read_pj"] < 0.5 * read_energy_pj(
        whole, feature_nm=energy["feature_nm"], supply_v=energy["supply_v"])
    # The multiplexer that picks a bank's word is logic of the weight memory, in area and in energy.
    assert area["by_block_um2"]["weight_memory"] > sum(macros[name]["area_um2"] for name in banks)
    assert energy["logic_by_block_nj_per_inference_hierarchical"]["weight_memory"] > 0
    leakage = energy["breakdown_nj_per_inference"]["sram_macro_leakage"]
    assert leakage > 0 and energy["sram_macro_leakage_nw"] == pytest.approx(sum(m["leakage_nw"] for m in macros.values()))
    assert energy["sram_macro_nj_per_inference"] == pytest.approx(
        energy["breakdown_nj_per_inference"]["sram_macro_accesses"] + leakage)


def test_gate_level_energy_with_an_early_exit_that_discards_most_of_the_input(tmp_path):
    # One membrane word per layer: an inference works few cycles, and after its early exit the core
    # discards the rest of the host's entries, a cycle each. The gate-level run must allow for them
    # (a budget of twice the working cycles plus 1,000 did not).
    out = tmp_path / "run"
    images = 32
    assert main(["run", "--dataset", "digits", "--hidden", "16", "--timesteps", "8", "--epochs", "4",
                 "--qat-epochs", "1", "--early-exit", "--exit-tolerance", "0.05", "--lanes", "16",
                 "--verify-images", "8", "--energy-images", str(images), "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["early_exit"]["avg_timesteps"] < 8 and report["energy"]["images"] == images
    spikes = np.load(out / "01-encode" / "test_set.npz")
    frames = np.unpackbits(spikes["packed"], axis=2)[:images, :, :int(spikes["shape"][2])]
    working = report["hardware"]["cycles_per_inference_mean"] * images
    entries = int(frames.sum()) + images * 8
    assert working + entries > 2 * working + 1000, "the case does not need more than the old budget"
