"""Seeded fuzzing of the network loader and the command line: every case ends in success or a clear
error (exit 2, one line, no traceback), never exit 1 without a mismatch, and leaves no .partial folder.
200 cases each in `make test`; 2,000 each in `make test-all` (the slow ones)."""

import io
import json

import numpy as np
import pytest

from flows.cli import EXIT_ERROR, main
from model.compiled import CompiledNetwork, CompiledNetworkError
from network_factory import NetworkSpec, random_network

FAST, ALL = 200, 2000
SEEDS = [pytest.param(seed, marks=pytest.mark.slow) if seed >= FAST else seed for seed in range(ALL)]
WEIRD_VALUES = [None, True, False, -1, 0, 1, 2**40, -2**40, 1.5, float("nan"), "", "x", "false", [], [1, 2], {}]


def corrupt(data: bytes, rng: np.random.Generator) -> bytes:
    """A valid network file changed one way at random."""
    kind = rng.integers(0, 4)
    if kind == 0:  # truncated
        return data[:int(rng.integers(0, len(data)))]
    if kind == 1:  # bytes flipped
        raw = bytearray(data)
        for _ in range(int(rng.integers(1, 20))):
            raw[int(rng.integers(0, len(raw)))] ^= int(rng.integers(1, 256))
        return bytes(raw)
    with np.load(io.BytesIO(data)) as f:
        arrays = {name: f[name] for name in f.files}
    meta = json.loads(arrays["meta"].tobytes())
    if kind == 2:  # a header field given a weird value
        layer = meta["layers"][int(rng.integers(0, len(meta["layers"])))]
        target = meta if rng.random() < 0.5 else layer
        key = list(target)[int(rng.integers(0, len(target)))]
        target[key] = WEIRD_VALUES[int(rng.integers(0, len(WEIRD_VALUES)))]
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    else:  # an array removed, reshaped or of another type
        name = [n for n in arrays if n != "meta"][int(rng.integers(0, len(arrays) - 1))]
        change = rng.integers(0, 3)
        if change == 0:
            del arrays[name]
        elif change == 1:
            arrays[name] = arrays[name].reshape(-1)[:max(1, arrays[name].size - 1)]
        else:
            arrays[name] = arrays[name].astype(np.float32) + 0.5
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


@pytest.fixture(scope="module")
def valid_network_bytes(tmp_path_factory):
    path = random_network(NetworkSpec(sizes=(64, 6, 10), seed=1)).save(tmp_path_factory.mktemp("net") / "n.npz")
    return path.read_bytes()


@pytest.mark.parametrize("seed", SEEDS)
def test_a_corrupted_network_file_loads_or_is_refused_clearly(seed, valid_network_bytes, tmp_path, capsys):
    path = tmp_path / "network.npz"
    path.write_bytes(corrupt(valid_network_bytes, np.random.default_rng(seed)))
    try:
        CompiledNetwork.load(path)
    except CompiledNetworkError:
        out = tmp_path / "verify"
        assert main(["verify", "--network", str(path), "--images", "1", "--out", str(out)]) == EXIT_ERROR
        err = capsys.readouterr().err
        assert "Traceback" not in err and err.count("spikefab: error:") == 1, err
        assert not (out / "rtl").exists()
    except Exception as exc:  # anything else is a loader bug
        pytest.fail(f"{type(exc).__name__} escaped the loader: {exc}")


FLAGS = {
    "--hidden": ["8", "0", "-3", "x", "100000000"], "--timesteps": ["1", "3", "0", "-1", "70000", "y"],
    "--leak-shift": ["none", "1", "31", "32", "0", "-2", "z"], "--epochs": ["0", "1", "-1", "q"],
    "--batch-size": ["0", "16", "-5"], "--qat-epochs": ["0", "1", "-1"], "--weight-bits": ["1", "2", "8", "17", "0"],
    "--lanes": ["1", "4", "0", "4097", "-1"], "--encoder-lanes": ["8", "0", "65"], "--exit-tolerance": ["0.01", "1", "-0.1", "nan"],
    "--test-images": ["all", "5", "0", "-2"], "--verify-images": ["all", "0", "3"], "--energy-images": ["0", "1"],
    "--shift-pixels": ["0", "1", "9", "-1"], "--simulator": ["auto", "icarus", "modelsim"],
    "--simulator-processes": ["0", "1", "2"], "--input-code": ["rate", "latency", "morse"],
    "--surrogate": ["arctan", "sigmoid"], "--memories": ["flip-flops", "dram"], "--seed": ["0", "-1", "s"],
    "--teacher-epochs": ["0", "1"], "--library": ["osu018", "sky130"],
}
SWITCHES = ["--da-lif", "--mirror", "--early-exit", "--no-buffering"]


@pytest.mark.parametrize("seed", SEEDS)
def test_random_flags_end_in_success_or_a_clear_error(seed, tmp_path, capsys):
    rng = np.random.default_rng(10_000 + seed)
    argv = ["run", "--dataset", "digits", "--until", "encode"]
    for flag in rng.choice(list(FLAGS), size=int(rng.integers(1, 5)), replace=False):
        argv += [flag, str(rng.choice(FLAGS[flag]))]
    argv += [s for s in SWITCHES if rng.random() < 0.15]
    out = tmp_path / "run"
    try:
        code = main([*argv, "--out", str(out)])
    except SystemExit as exit_:  # argparse refuses a malformed value itself
        code = exit_.code
    err = capsys.readouterr().err
    assert code in (0, EXIT_ERROR), (argv, code, err)
    assert "Traceback" not in err, (argv, err)
    if code == EXIT_ERROR and "usage:" not in err:
        assert sum(line.startswith("spikefab") for line in err.splitlines()) == 1, (argv, err)
    assert not list(tmp_path.glob("**/*.partial")), argv
