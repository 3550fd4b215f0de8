"""Bad input: a clear error naming the problem, a non-zero exit, no half-written files."""


import pytest

from flows.cli import EXIT_ERROR, main
from flows.eda.liberty_library import CellLibrary
from flows.eda.synthesis import synthesize
from sim.tools import ToolError
from model.architecture import CoreArchitecture
from network_factory import NetworkSpec, random_network, random_spikes
from sim.rtl_run import rtl_run


@pytest.fixture
def empty_path(monkeypatch, tmp_path):
    """A PATH with no tools on it (the tests run Python by its full path)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def test_a_missing_simulator_is_named(empty_path, tmp_path):
    net = random_network(NetworkSpec(sizes=(4, 3)))
    with pytest.raises(ToolError, match="iverilog not found on PATH: install Debian's iverilog"):
        rtl_run(net, CoreArchitecture(lanes=2), random_spikes(net, 1, 0.5, 0), work_dir=tmp_path / "rtl")
    assert not (tmp_path / "rtl").exists()


def test_a_missing_yosys_is_named(empty_path, tmp_path):
    verilog = tmp_path / "x.v"
    verilog.write_text("module x; endmodule\n")
    with pytest.raises(ToolError, match="yosys not found on PATH"):
        synthesize(verilog, top="x", library=CellLibrary.OSU018, out_dir=tmp_path / "syn")


def test_a_failing_tool_reports_its_command_and_log(tmp_path):
    verilog = tmp_path / "broken.v"
    verilog.write_text("module broken(; endmodule\n")
    with pytest.raises(ToolError, match=r"(?s)yosys failed \(exit \d+\).*last lines of.*syntax error"):
        synthesize(verilog, top="broken", library=CellLibrary.OSU018, out_dir=tmp_path / "syn")


def test_verify_with_a_corrupted_network_file_exits_with_an_error(tmp_path, capsys):
    bad = tmp_path / "network.npz"
    bad.write_bytes(b"PK\x03\x04 this is not a network")
    assert main(["verify", "--network", str(bad), "--out", str(tmp_path / "out")]) == EXIT_ERROR
    assert "not a spikefab compiled network (corrupted or truncated" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_verify_with_a_network_of_the_wrong_input_size_exits_with_an_error(tmp_path, capsys):
    path = random_network(NetworkSpec(sizes=(5, 3))).save(tmp_path / "net.npz")
    assert main(["verify", "--network", str(path), "--out", str(tmp_path / "out")]) == EXIT_ERROR
    assert "digits has 64 inputs per image, the network takes 5" in capsys.readouterr().err


def test_a_weight_width_out_of_range_exits_with_an_error(tmp_path, capsys):
    assert main(["run", "--weight-bits", "40", "--out", str(tmp_path / "run")]) == EXIT_ERROR
    assert "weight_bits must be 2..16 for training, not 40" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_a_missing_data_set_says_where_to_put_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("model.dataset.SHARED_DATASETS", tmp_path / "nowhere")
    monkeypatch.setitem(__import__("model.datasets").datasets.IDX_SYSTEM_LOCATIONS, "fashion_mnist",
                        tmp_path / "nowhere")
    monkeypatch.delenv("SPIKEFAB_DATA", raising=False)
    assert main(["run", "--dataset", "fashion_mnist", "--out", str(tmp_path / "run")]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "fashion_mnist not found" in err and "Put the four Fashion-MNIST IDX gz files" in err
    run = tmp_path / "run"
    assert not (run / "report.json").exists()
    assert [p.name for p in run.iterdir()] == [] if run.exists() else True


@pytest.mark.parametrize("options, message", [
    (["--da-lif", "--backprop", "rate"], "rate-based backpropagation has no gradient for DA-LIF's decays"),
    (["--da-lif", "--integration", "discontinuous"], "DA-LIF learns how the membrane decays"),
    (["--input-code", "latency", "--encoder-lanes", "8"], "the on-chip encoder draws a rate code"),
    (["--dataset", "nmnist", "--shift-pixels", "1"], "nmnist is not made of square images"),
    (["--dataset", "nmnist", "--encoder-lanes", "8"], "nmnist is event data, already spikes"),
    (["--early-exit", "--timesteps", "1"], "early exit needs at least two timesteps"),
    (["--shift-pixels", "9"], "a shift of 9 pixels does not fit a side of 8"),
    (["--batch-norm", "--backprop", "rate"], "rate-based backpropagation runs without batch normalisation"),
    (["--batch-norm", "--train-processes", "2"], "batch normalisation is not data-parallel yet"),
    (["--batch-norm", "--da-lif"], "dual_adaptive (DA-LIF, --da-lif), not both"),
], ids=["da-lif-rate", "da-lif-discontinuous", "latency-on-chip", "shift-events", "encoder-events", "exit-one-step",
        "shift-too-far", "batch-norm-rate", "batch-norm-processes", "batch-norm-da-lif"])
def test_settings_that_cannot_work_together_are_refused_before_any_step(options, message, tmp_path, capsys):
    assert main(["run", *options, "--out", str(tmp_path / "run")]) == EXIT_ERROR
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_opensta_without_a_timing_figure_is_a_failure_naming_it(tmp_path):
    # Bug 2 of the hostile-use issue: OpenSTA exited 0 with an empty log and the flow went on. A
    # netlist without a clock makes the real OpenSTA report no usable figure (it ended in a division
    # by zero before).
    from flows.eda.sta_timing import analyse_timing

    netlist = tmp_path / "no_clock.v"
    netlist.write_text("module spikefab_core(input a, output y);\n  assign y = a;\nendmodule\n")
    with pytest.raises(ToolError, match=r"OpenSTA \(sta\) found no clk port"):
        analyse_timing(netlist, top="spikefab_core", library=CellLibrary.OSU018, out_dir=tmp_path / "sta")


def test_verify_refuses_the_on_chip_encoder_for_a_network_fed_another_code(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["run", "--dataset", "digits", "--hidden", "8", "--timesteps", "3", "--epochs", "1", "--qat-epochs",
                 "0", "--input-code", "latency", "--until", "quantize", "--out", str(run)]) == 0
    out = tmp_path / "verify"
    assert main(["verify", "--network", str(run / "03-quantize" / "network.npz"), "--encoder-lanes", "8",
                 "--images", "2", "--out", str(out)]) == EXIT_ERROR
    assert "the on-chip encoder draws a rate code, but this network is fed LatencyCode" in capsys.readouterr().err
    assert not (out / "rtl").exists()
