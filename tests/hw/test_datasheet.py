"""The datasheet says what the Verilog does: its bit ranges decode the core's real payloads, its INIT
timing is what the core shows after reset, and its Python example builds a core."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from hw.core import result_layout
from hw.datasheet import datasheet_markdown
from hw.protocol_trace import record_inference
from model.architecture import CoreArchitecture, RateEncoder
from model.compiled import EarlyExit, Readout
from network_factory import NetworkSpec, random_network
from sim.cycles import predict_cycles
from sim.port_codec import PortCodec
from sim.reference import ref_run

ROOT = Path(__file__).resolve().parents[2]
NET = random_network(NetworkSpec(sizes=(6, 5, 3), timesteps=2, readout=Readout.MEMBRANE, weight_bits=6, seed=3))


def bit_ranges(markdown: str, section: str) -> dict[str, tuple[int, int]]:
    table = markdown.split(f"### {section}", 1)[1].split("###", 1)[0]
    return {name: (int(high), int(low)) for name, high, low in re.findall(r"\| `(\w+)` \| \[(\d+):(\d+)\]", table)}


def test_the_result_bit_ranges_decode_what_the_codec_decodes():
    markdown = datasheet_markdown(NET, CoreArchitecture(lanes=2))
    ranges = bit_ranges(markdown, "result__payload")
    layout = result_layout(NET)
    assert set(ranges) == {name for name, _ in layout}
    word = sum((k + 5) << field.offset for k, (_, field) in enumerate(layout)) & ((1 << layout.size) - 1)
    decoded = PortCodec(NET, CoreArchitecture(lanes=2)).result(word)
    for name in ("predicted", "timesteps", "cycles", "input_error"):
        high, low = ranges[name]
        assert decoded[name] == (word >> low) & ((1 << (high - low + 1)) - 1), name


@pytest.mark.parametrize("encoder", [None, RateEncoder(lanes=4)], ids=["events", "encoder"])
def test_the_stated_init_and_cycles_are_what_the_core_does(encoder):
    arch = CoreArchitecture(lanes=2, encoder=encoder)
    markdown = datasheet_markdown(NET, arch)
    init = int(re.search(r"for (\d+) cycles \(max over layers", markdown).group(1))
    spikes = [[1, 3], [0, 4, 5]]
    inputs = spikes if encoder is None else [40, 200, 90, 255, 0, 130]
    cycles = record_inference(NET, arch, inputs)
    first_ready = next(k for k, c in enumerate(cycles) if c.in_ready)
    assert first_ready == init == max(arch.words(NET))
    result = next(c for c in cycles if c.result_valid).result_payload
    if encoder is None:
        import numpy as np

        frames = np.zeros((1, 2, 6), dtype=bool)
        for t, indices in enumerate(spikes):
            frames[0, t, indices] = True
        expected = int(predict_cycles(NET, arch, ref_run(NET, frames)).cycles[0])
        assert f"{expected} cycles" in result


def test_early_exit_and_the_encoder_are_described_when_built():
    net = random_network(NetworkSpec(sizes=(6, 5, 3), timesteps=3, early_exit=EarlyExit(min_steps=1, margin=2), seed=4))
    markdown = datasheet_markdown(net, CoreArchitecture(lanes=2, encoder=RateEncoder(lanes=4)))
    assert "top1 - top2 of the readout >= 2" in markdown and "pixels_in__payload" in markdown
    assert "2 pixel entries (ceil(6 / 4))" in markdown


def test_the_python_example_builds_a_core(tmp_path):
    markdown = datasheet_markdown(NET, CoreArchitecture(lanes=2))
    example = markdown.split("```python\n", 1)[1].split("```", 1)[0]
    done = subprocess.run([sys.executable, "-c", example], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "module spikefab_core" in (tmp_path / "spikefab_core.v").read_text()


def test_a_convolutional_cores_datasheet_gives_its_geometry_layout_and_cycle_terms():
    from model.convolution import ConvShape
    net = random_network(NetworkSpec(sizes=(48, 5), image=(2, 7, 6), seed=3,
                                     convolutions=(ConvShape(out_channels=4, kernel=3, stride=2, padding=1),)))
    arch = CoreArchitecture(lanes=3)
    sheet = datasheet_markdown(net, arch)
    assert "| 0 | conv 2x7x6 -> 4x4x3, kernel 3, stride 2, padding 1 | 84 | 48 |" in sheet
    assert "input i = (y * in_width + x) * in_channels + c" in sheet
    # 3 lanes on 4 channels: 2 lanes, 2 words per position, 24 membrane words; the dense layer's 5 on 3 lanes.
    assert "(2, 3)" in sheet and "n_0 = 24, n_1 = 2" in sheet and "g_0 = 2, g_1 = 2" in sheet
    assert "row (ky * kernel + kx) * in_channels + c" in sheet
