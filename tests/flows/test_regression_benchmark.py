"""The regression benchmark counts a real JUnit report and reuses it only under the key it was made."""

import json
import subprocess
import sys

from flows.benchmarks import regression
from flows.benchmarks.regression import RegressionBenchmark, RegressionOutcome, regression_key

SAMPLE_TESTS = """
import pytest

def test_passes():
    assert True

def test_fails():
    assert 1 == 2

@pytest.mark.skip(reason="not a case")
def test_skipped():
    pass

@pytest.mark.parametrize("n", [1, 2])
def test_each(n):
    assert n > 0
"""


def test_the_outcome_counts_cases_and_failures_of_a_real_junit_report(tmp_path):
    (tmp_path / "test_sample.py").write_text(SAMPLE_TESTS)
    junit = tmp_path / "junit.xml"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_sample.py"),
                    f"--junitxml={junit}", "--rootdir", str(tmp_path)], cwd=tmp_path, capture_output=True)
    outcome = RegressionOutcome.from_junit(junit, processes=1)
    assert (outcome.cases, outcome.failed, outcome.processes) == (4, 1, 1)


def _keep(work, key, cases):
    folder = work / "regression"
    folder.mkdir(parents=True)
    (folder / "junit.xml").write_text(f'<testsuites><testsuite tests="{cases}" failures="0" errors="0" skipped="0" '
                                      f'time="12.5"/></testsuites>')
    (folder / "key.json").write_text(json.dumps({"key": key, "processes": 2}))


def test_a_report_is_reused_under_its_key_and_rerun_under_another(tmp_path, monkeypatch):
    runs = []

    def pytest_run(argv, **kwargs):
        runs.append(argv)
        junit = next(a for a in argv if a.startswith("--junitxml=")).split("=", 1)[1]
        with open(junit, "w") as f:
            f.write('<testsuites><testsuite tests="3" failures="1" errors="0" skipped="0" time="1"/></testsuites>')
        return subprocess.CompletedProcess(argv, 1)

    monkeypatch.setattr(regression.subprocess, "run", pytest_run)
    _keep(tmp_path / "same", regression_key(), cases=1000)
    results, kinds = RegressionBenchmark().run("regression", tmp_path / "same")
    assert not runs and results["regression.random_networks"] == 1000 and results["regression.mismatches"] == 0
    assert kinds["regression.mismatches"] == "measured"

    stale = {**regression_key(), "code": "a digest of other code"}
    _keep(tmp_path / "stale", stale, cases=1000)
    results, _ = RegressionBenchmark(processes=1).run("regression", tmp_path / "stale")
    assert len(runs) == 1 and "-n" in runs[0] and results["regression.random_networks"] == 3
    assert results["regression.mismatches"] == 1
    assert json.loads((tmp_path / "stale" / "regression" / "key.json").read_text())["key"] == regression_key()
