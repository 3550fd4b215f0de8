"""The package boundaries of ../shared/DESIGN.md, checked on the code itself: hw/, sim/ and the
training-to-hardware contract in model/ run without torch; sim/ and hw/ import nothing from flows/;
no project modules import each other in a circle. (make test also runs tests/hw and tests/sim whole
with torch unimportable.)"""

import subprocess
import sys
from pathlib import Path

import pytest

from flows.engine.provenance import PROJECT_PACKAGES, project_imports

ROOT = Path(__file__).resolve().parents[1]
TORCH_BLOCKER = Path(__file__).parent / "torch_blocked"
# The contract between training and hardware, and the data loaders the hardware flow shares.
TORCH_FREE_MODEL = ("model.compiled", "model.atomic_file", "model.architecture", "model.encoding", "model.dataset",
                    "model.datasets", "model.event_datasets", "model.nir_import", "model.nir_export")


def project_modules(*packages: str) -> list[str]:
    return sorted(".".join(path.relative_to(ROOT).with_suffix("").parts)
                  for package in packages for path in (ROOT / package).rglob("*.py")
                  if path.name != "__init__.py")


def run_without_torch(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": f"{TORCH_BLOCKER}:{ROOT}", "PATH": "/usr/bin:/bin"})


def test_the_blocker_really_blocks_torch():
    done = run_without_torch("import torch")
    assert done.returncode != 0 and "torch is blocked here" in done.stderr


@pytest.mark.parametrize("module", [*project_modules("hw", "sim"), *TORCH_FREE_MODEL])
def test_imports_without_torch(module):
    done = run_without_torch(f"import {module}")
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("module", project_modules("hw", "sim"))
def test_hardware_and_simulation_do_not_import_the_flows(module):
    assert not {name for name in project_imports(module) if name.split(".")[0] == "flows"}


def test_no_import_circles():
    graph = {module: {m for m in project_imports(module) if not m.endswith("__init__")}
             for module in project_modules(*PROJECT_PACKAGES)}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        if module in path:
            pytest.fail("import circle: " + " -> ".join(path[path.index(module):] + (module,)))
        if module in done or module not in graph:
            return
        for imported in sorted(graph[module]):
            visit(imported, path + (module,))
        done.add(module)

    for module in graph:
        visit(module, ())
