"""The demo's configuration end to end: the issue's target of RTL accuracy >= 0.93 on digits with no
mismatch, on every test image. Long (a few minutes), so in `make test-all` and `make bench`."""

import json

import pytest

from flows.cli import main


@pytest.mark.slow
def test_demo_configuration_reaches_the_accuracy_target_with_no_mismatch(tmp_path):
    assert main(["run", "--dataset", "digits", "--verify-images", "all", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["verify"]["images"] == 360
    assert report["verify"]["mismatched_images"] == 0 and report["verify"]["cycle_mismatches"] == 0
    assert report["accuracy"]["rtl"] >= 0.93
    assert report["accuracy"]["rtl"] == report["accuracy"]["quantized_reference"]
