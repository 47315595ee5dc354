"""PNG figures of a run (matplotlib, Agg backend): map, completion over time, airtime per node."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after use("Agg"): the backend must be chosen first


def write_plots(results: list[dict[str, Any]], out_dir: Path) -> list[Path]:
    """Write the figures for one or more runs of the same scenario; returns the paths.

    Each result may carry ``_usable`` (the usable-link adjacency) for drawing links on the map.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        *[plot_map(r, out_dir / f"map-{r['protocol']}.png", r.get("_usable")) for r in results],
        plot_completion(results, out_dir / "completion.png"),
        *[plot_airtime(r, out_dir / f"airtime-{r['protocol']}.png") for r in results],
    ]


def plot_map(result: dict[str, Any], path: Path, usable: list[list[int]] | None) -> Path:
    """Nodes at their coordinates, usable links as lines, colour = completion time."""
    nodes = result["nodes"]
    fig, ax = plt.subplots(figsize=(7, 6))
    if usable:
        for a, neighbours in enumerate(usable):
            for b in neighbours:
                if a < b:
                    ax.plot([nodes[a]["lon"], nodes[b]["lon"]], [nodes[a]["lat"], nodes[b]["lat"]],
                            color="0.8", linewidth=0.6, zorder=1)
    done = [n for n in nodes if n["complete"]]
    missing = [n for n in nodes if not n["complete"]]
    if done:
        points = ax.scatter([n["lon"] for n in done], [n["lat"] for n in done],
                            c=[n["completion_s"] / 60 for n in done], cmap="viridis", s=70, zorder=3,
                            edgecolors="black", linewidths=0.5)
        fig.colorbar(points, ax=ax, label="completed after (min)")
    if missing:
        ax.scatter([n["lon"] for n in missing], [n["lat"] for n in missing], marker="x", color="red",
                   s=70, zorder=3, label="incomplete")
        ax.legend(loc="lower right")
    if len(nodes) <= 40:
        for n in nodes:
            ax.annotate(n["name"], (n["lon"], n["lat"]), fontsize=7, xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(f"{result['scenario']}: {result['protocol']}, {result['preset']}, loss {result['loss']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_completion(results: list[dict[str, Any]], path: Path) -> Path:
    """Share of nodes holding the whole work over time, one line per protocol."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for r in results:
        steps = r["timeline"]
        xs = [0.0] + [t / 60 for t, _ in steps] + [r["simulated_s"] / 60]
        ys = [0.0] + [f * 100 for _, f in steps] + [r["complete_fraction"] * 100]
        ax.step(xs, ys, where="post", label=f"{r['protocol']} ({r['airtime_s']:.0f} s airtime)")
    ax.set_xlabel("simulated time (min)")
    ax.set_ylabel("nodes complete (%)")
    ax.set_ylim(0, 105)
    ax.set_title(f"{results[0]['scenario']}, {results[0]['size']} bytes, {results[0]['preset']}")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_airtime(result: dict[str, Any], path: Path) -> Path:
    """Each node's airtime in its busiest rolling hour against the duty-cycle limit."""
    nodes = result["nodes"]
    limit_s = result["duty_cycle_limit"] * 3600
    fig, ax = plt.subplots(figsize=(max(6, 0.35 * len(nodes)), 4))
    xs = range(len(nodes))
    ax.bar(xs, [n["max_duty_cycle"] * 3600 for n in nodes], color="tab:blue", label="busiest hour")
    ax.axhline(limit_s, color="red", linestyle="--", label=f"limit {limit_s:.0f} s/h")
    if len(nodes) <= 40:
        ax.set_xticks(list(xs), [n["name"] for n in nodes], rotation=70, fontsize=7)
    ax.set_ylabel("airtime in the busiest hour (s)")
    ax.set_title(f"{result['scenario']}: {result['protocol']} airtime per node")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
