"""The randomized co-simulation regression as a benchmark: every seed of
tests/sim/test_randomized_cosimulation.py (random networks, architectures and host behaviour, RTL
against the reference), run by pytest, its count and failures published as
`regression.random_networks` and `regression.mismatches`.

The run takes most of an hour, so its JUnit report is kept beside the results and reused only while
the key it was made under still holds: the source of every module the test imports (their whole
import closure), the test and its network factory, the simulators' executables and the libraries'
versions. Any change to them runs the regression again."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

from flows.engine.figures import Kind
from flows.engine.provenance import code_closure, file_digest, library_versions, tool_identity
from model.atomic_file import write_atomically
from sim.rtl_run import available_cores

PROJECT = Path(__file__).resolve().parents[2]
TEST_FILE = "tests/sim/test_randomized_cosimulation.py"
TEST_SUPPORT = (TEST_FILE, "tests/network_factory.py", "tests/conftest.py")
# What the test imports from the project; code_closure adds what those import in turn.
TESTED_MODULES = ("model.architecture", "sim.rtl_run", "sim.rate_encoder", "sim.compare")
SIMULATORS = ("iverilog", "vvp", "verilator")


def regression_key() -> dict:
    """Everything the regression's outcome depends on, as digests and versions."""
    code = {}
    for module in TESTED_MODULES:
        code.update(code_closure(module))
    files = {name: file_digest(PROJECT / name) for name in TEST_SUPPORT if (PROJECT / name).is_file()}
    return {"code": hashlib.sha256(repr(sorted(code.items())).encode()).hexdigest(), "tests": files,
            "tools": {tool: tool_identity(tool) for tool in SIMULATORS}, "libraries": library_versions()}


@dataclass(frozen=True, kw_only=True)
class RegressionOutcome:
    cases: int
    failed: int     # failures and errors: any case whose RTL differed from the reference, or that broke
    seconds: float
    processes: int

    @classmethod
    def from_junit(cls, path: Path, processes: int) -> "RegressionOutcome":
        suites = list(ElementTree.parse(path).getroot().iter("testsuite"))
        count = lambda attribute: sum(int(s.attrib.get(attribute, 0)) for s in suites)  # noqa: E731
        return cls(cases=count("tests") - count("skipped"), failed=count("failures") + count("errors"),
                   seconds=round(sum(float(s.attrib.get("time", 0)) for s in suites), 1), processes=processes)


@dataclass(frozen=True, kw_only=True)
class RegressionBenchmark:
    processes: int | None = None  # pytest-xdist workers; None: one per available core

    def __post_init__(self) -> None:
        if self.processes is not None and (not isinstance(self.processes, int) or self.processes < 1):
            raise ValueError(f"processes must be a positive int or None (one per core), not {self.processes!r}")

    def outcome(self, work: Path) -> RegressionOutcome:
        """The regression's outcome under today's key: reused from `work` if it was made under it."""
        folder = work / "regression"
        junit, key_file = folder / "junit.xml", folder / "key.json"
        key = regression_key()
        if junit.is_file() and key_file.is_file():
            made = json.loads(key_file.read_text())
            if made.get("key") == key:
                return RegressionOutcome.from_junit(junit, made["processes"])
        folder.mkdir(parents=True, exist_ok=True)
        key_file.unlink(missing_ok=True)  # a report without its key is never reused
        processes = self.processes or available_cores()
        partial = folder / "junit.partial.xml"
        # torch-free, as in `make test`: the regression needs none of it.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(PROJECT / "tests" / "torch_blocked"), str(PROJECT), os.environ.get("PYTHONPATH", "")])}
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", str(processes),
                               TEST_FILE, f"--junitxml={partial}"], cwd=PROJECT, env=env)
        if done.returncode not in (0, 1):  # 1: some cases failed, which is the figure; anything else broke
            raise RuntimeError(f"the regression's pytest run broke (exit {done.returncode}); run "
                               f"`python -m pytest {TEST_FILE}` to see why")
        partial.replace(junit)
        write_atomically(key_file, json.dumps({"key": key, "processes": processes}, indent=2))
        return RegressionOutcome.from_junit(junit, processes)

    def run(self, name: str, work: Path) -> tuple[dict, dict]:
        outcome = self.outcome(work)
        results = {f"{name}.random_networks": outcome.cases, f"{name}.mismatches": outcome.failed,
                   f"{name}.seconds": outcome.seconds, f"{name}.processes": outcome.processes}
        kinds = {key: Kind.MEASURED.value for key in results}
        kinds[f"{name}.processes"] = Kind.SETTING.value
        return results, kinds
