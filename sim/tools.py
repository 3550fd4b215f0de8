"""The one way spikefab runs an external tool: check it exists, keep its log, and turn a failure into
an error naming the tool, the command and the end of the log."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Sequence

LOG_TAIL_LINES = 20

INSTALL_HINTS = {
    "iverilog": "install Debian's iverilog (make setup does)",
    "vvp": "install Debian's iverilog (make setup does)",
    "yosys": "install Debian's yosys (make setup does)",
    "sta": "install Debian's opensta (make setup does)",
}


class ToolError(RuntimeError):
    """An external tool is missing or failed."""


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        hint = INSTALL_HINTS.get(name, "install it")
        raise ToolError(f"{name} not found on PATH: {hint}")
    return path


def log_tail(log: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def run_tool(command: Sequence[str], *, log: str | os.PathLike, cwd: str | os.PathLike | None = None,
             stdin_text: str | None = None, timeout_s: float | None = None) -> Path:
    """Run `command`, writing its stdout and stderr to `log`; raise ToolError on a non-zero exit."""
    require_tool(command[0])
    log = Path(log)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        try:
            proc = subprocess.run(list(command), cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                  input=stdin_text, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise ToolError(f"{command[0]} timed out after {timeout_s} s: {' '.join(command)}\nlog {log}") from exc
    if proc.returncode != 0:
        raise ToolError(
            f"{command[0]} failed (exit {proc.returncode}): {' '.join(map(str, command))}\n"
            f"last lines of {log}:\n{log_tail(log)}"
        )
    return log


def yosys_path(path: str | os.PathLike) -> str:
    """A file name as a Yosys script argument: absolute, in double quotes (spaces are fine then)."""
    text = str(Path(path).resolve())
    if '"' in text:
        raise ToolError(f"Yosys cannot read a path with a double quote in it: {text}; rename the folder")
    return f'"{text}"'


def tcl_path(path: str | os.PathLike) -> str:
    """A file name as a Tcl (OpenSTA) argument: absolute, in braces (spaces are fine then)."""
    text = str(Path(path).resolve())
    if any(c in text for c in "{}\\"):
        raise ToolError(f"OpenSTA's Tcl cannot take a path with braces or backslashes: {text}; rename the folder")
    return "{" + text + "}"


def descendant_processes(pid: int | None = None) -> list[int]:
    """The process ids of every process below `pid` (this one by default), read from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone since the listing
        # The command name may hold spaces and parentheses: the fields after its last ")" are plain.
        parent = int(stat[stat.rindex(")") + 2:].split()[1])
        parents.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [os.getpid() if pid is None else pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def stop_descendant_processes() -> None:
    """Kill every process this one started, directly or not (simulators, Yosys, make): an interrupted
    run leaves none of them writing into a folder a rerun recreates."""
    for child in descendant_processes():
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass

