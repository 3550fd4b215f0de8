"""A recorded inference (hw/protocol_trace.py) drawn as a digital waveform, for the datasheet."""

from __future__ import annotations

from pathlib import Path

from hw.protocol_trace import PortCycle

ROWS = (("input valid", "in_valid"), ("input ready", "in_ready"), ("result valid", "result_valid"),
        ("trace valid", "trace_valid"))


def plot_waveform(cycles: list[PortCycle], path: Path, *, title: str, input_port: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(cycles)
    fig, ax = plt.subplots(figsize=(max(8.0, n * 0.22), 3.6))
    labels = [(f"{input_port} {name.split()[1]}" if name.startswith("input") else name) for name, _ in ROWS]
    for row, (_, attribute) in enumerate(ROWS):
        base = (len(ROWS) - row) * 1.5
        values = [getattr(c, attribute) for c in cycles]
        xs, ys = [], []
        for k, v in enumerate(values):
            xs += [k, k + 1]
            ys += [base + 0.8 * v] * 2
        ax.plot(xs, ys, color="tab:blue", linewidth=1.4)
    # Where an entry is taken: its payload; where the result is offered: what it says.
    for k, c in enumerate(cycles):
        if c.in_valid and c.in_ready:
            ax.annotate(c.in_payload, (k + 0.5, len(ROWS) * 1.5 + 0.9), rotation=90, fontsize=6, ha="center",
                        va="bottom")
        if c.result_valid:
            ax.annotate(c.result_payload, (k + 0.5, 1.5 * 2 + 0.9), fontsize=7, ha="right", va="bottom")
    ax.set_yticks([(len(ROWS) - r) * 1.5 + 0.4 for r in range(len(ROWS))], labels)
    ax.set_xticks(range(0, n + 1, 5))
    ax.set_xlabel("clock cycle after reset (rising edges at the integers)")
    ax.set_ylim(0.8, len(ROWS) * 1.5 + 3.2)
    ax.set_title(title, fontsize=9)
    ax.grid(axis="x", linewidth=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
