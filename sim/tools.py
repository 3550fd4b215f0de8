"""The one way spikefab runs an external tool: check it exists, keep its log, and turn a failure into
an error naming the tool, the command and the end of the log."""

from __future__ import annotations

import os
import shutil
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
