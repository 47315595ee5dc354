"""PNG figures of a run for planners (matplotlib, Agg backend).

* the map: nodes on a km grid with equal aspect, usable links, colour = when a node held every work;
* completion over time: the share of nodes holding every work, one line per protocol;
* works: for a workload, when each work was published, reached each node and was held everywhere;
* airtime: every node's busiest rolling hour against the duty-cycle limit, one bar per protocol.

Every title names the scenario, workload, preset, seed, loss and background, so a figure read on
its own says what was run. The ``*_figure`` functions return the figure; :func:`write_plots`
saves and closes them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after use("Agg"): the backend must be chosen first
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.transforms import Bbox

KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON_EQUATOR = 111.320
MAX_LABELLED_NODES = 40
DPI = 110
_MARKER_PT = 9.0  # a node's marker (s=70) is about 8.4 pt across
_RING_PT = 16.5  # the ring around a publishing venue (s=260)
# Where a node's label may go, tried in order: (dx, dy) in points and the text's alignment.
_LABEL_SPOTS = [(dx * r, dy * r, ha, va) for r in (1, 2.6) for dx, dy, ha, va in (
    (5, 4, "left", "bottom"), (5, -4, "left", "top"), (-5, 4, "right", "bottom"), (-5, -4, "right", "top"),
    (0, 7, "center", "bottom"), (0, -7, "center", "top"), (7, 0, "left", "center"), (-7, 0, "right", "center"))]


def write_plots(results: list[dict[str, Any]], out_dir: Path) -> list[Path]:
    """Write the figures of one or more runs of the same scenario and seed; returns the paths.

    Each result may carry ``_usable`` (the usable-link adjacency) for drawing links on the map.
    The per-work chart is drawn for workloads of more than one work.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = [(f"map-{r['protocol']}.png", map_figure(r, r.get("_usable"))) for r in results]
    figures.append(("completion.png", completion_figure(results)))
    figures += [(f"works-{r['protocol']}.png", works_figure(r)) for r in results if r["work_count"] > 1]
    figures.append(("airtime.png", airtime_figure(results)))
    paths = []
    for name, fig in figures:
        path = out_dir / name
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
        paths.append(path)
    return paths


def caption(result: dict[str, Any], protocol: bool = True) -> str:
    """What was run, for a title: scenario, workload, protocol, preset, seed, loss, background."""
    size = result["size"]
    one = f"{size // 1024} KiB" if size % 1024 == 0 else f"{size} bytes"
    works = f"{result['workload']} ({result['work_count']} works)" if result["work_count"] > 1 else one
    who = f"{result['protocol']}, " if protocol else ""
    return (f"{result['scenario']}, {works}, {who}{result['preset']}\n"
            f"seed {result['seed']}, loss {result['loss']:g}, background {result.get('background', 0.0):g}")


def km_coordinates(nodes: list[dict[str, Any]]) -> tuple[list[float], list[float], float, float]:
    """Each node's km east and north of the nodes' south-west corner, and that corner (lon, lat)."""
    lon0 = min(n["lon"] for n in nodes)
    lat0 = min(n["lat"] for n in nodes)
    mid = math.radians((lat0 + max(n["lat"] for n in nodes)) / 2)
    xs = [(n["lon"] - lon0) * KM_PER_DEG_LON_EQUATOR * math.cos(mid) for n in nodes]
    ys = [(n["lat"] - lat0) * KM_PER_DEG_LAT for n in nodes]
    return xs, ys, lon0, lat0


def map_figure(result: dict[str, Any], usable: list[list[int]] | None) -> Figure:
    """Nodes on a km grid (equal aspect), usable links in grey, colour = completion time.

    Nodes that never held every work are red crosses; there is no colour bar when none did.
    Publishing venues are ringed. Labels are placed so they do not cover each other.
    """
    nodes = result["nodes"]
    xs, ys, lon0, lat0 = km_coordinates(nodes)
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    if usable:
        for a, neighbours in enumerate(usable):
            for b in neighbours:
                if a < b:
                    ax.plot([xs[a], xs[b]], [ys[a], ys[b]], color="0.82", linewidth=0.6, zorder=1)
    done = [i for i, n in enumerate(nodes) if n["complete"]]
    missing = [i for i, n in enumerate(nodes) if not n["complete"]]
    if done:
        points = ax.scatter([xs[i] for i in done], [ys[i] for i in done],
                            c=[nodes[i]["completion_s"] / 60 for i in done], cmap="viridis", s=70, zorder=3,
                            edgecolors="black", linewidths=0.5)
        fig.colorbar(points, ax=ax, label="held every work after (min)", shrink=0.8)
    if missing:
        ax.scatter([xs[i] for i in missing], [ys[i] for i in missing], marker="x", color="red", s=70, zorder=3,
                   label=f"incomplete ({len(missing)})")
    venues = sorted({w["venue"] for w in result["works"]} | {result["source"]})
    ring = [i for i, n in enumerate(nodes) if n["name"] in venues]
    ax.scatter([xs[i] for i in ring], [ys[i] for i in ring], s=_RING_PT ** 2, facecolors="none", edgecolors="black",
               linewidths=1.2, zorder=2, label="publishes")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_aspect("equal")
    pad = 0.08 * max(max(xs), max(ys), 0.5)
    ax.set_xlim(-pad, max(xs) + pad)
    ax.set_ylim(-pad, max(ys) + pad)
    ax.set_xlabel(f"km east of {lon0:.4f}° E")
    ax.set_ylabel(f"km north of {lat0:.4f}° N")
    ax.set_title(caption(result), fontsize=10)
    ax.grid(alpha=0.25)
    fig.tight_layout()  # before placing labels: placement measures the final layout
    if len(nodes) <= MAX_LABELLED_NODES:
        place_labels(ax, xs, ys, [n["name"] for n in nodes], [i in ring for i in range(len(nodes))])
    return fig


def place_labels(ax: Axes, xs: list[float], ys: list[float], names: list[str],
                 ringed: list[bool] | None = None) -> list[Text]:
    """Put each name beside its point where it overlaps no other label, marker or the axes' edge.

    Greedy: labels of crowded points go first, each takes the first free spot of ``_LABEL_SPOTS``
    (or the least-overlapping one when none is free). ``ringed`` points have a larger marker.
    Call it after the figure's layout is final: it measures in pixels.
    """
    fig = ax.figure
    fig.canvas.draw()  # applies the equal aspect, which moves the axes: measure the final layout
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # Agg canvases have one
    frame = ax.get_window_extent(renderer)
    centres = [ax.transData.transform((x, y)) for x, y in zip(xs, ys, strict=True)]
    taken: list[Bbox] = []
    for i, (cx, cy) in enumerate(centres):
        half = (_RING_PT if ringed and ringed[i] else _MARKER_PT) / 2 * fig.dpi / 72
        taken.append(Bbox.from_extents(cx - half, cy - half, cx + half, cy + half))

    def crowding(i: int) -> float:
        return -sum(1 for cx, cy in centres if math.hypot(cx - centres[i][0], cy - centres[i][1]) < 80)

    texts: list[Text] = []
    for i in sorted(range(len(names)), key=crowding):
        best: tuple[float, Text] | None = None
        for dx, dy, ha, va in _LABEL_SPOTS:
            text = ax.annotate(names[i], (xs[i], ys[i]), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                               fontsize=7, zorder=4)
            box = text.get_window_extent(renderer).expanded(1.04, 1.1)
            cost = sum(_overlap(box, other) for other in taken) + _outside(box, frame)
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, text)
            else:
                text.remove()
            if cost == 0:
                break
        assert best is not None
        taken.append(best[1].get_window_extent(renderer))
        texts.append(best[1])
    return texts


def _overlap(a: Bbox, b: Bbox) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0


def _outside(box: Bbox, frame: Bbox) -> float:
    return box.width * box.height - _overlap(box, frame)


def completion_figure(results: list[dict[str, Any]]) -> Figure:
    """Share of nodes holding every work over time, one line per protocol."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for r in results:
        steps = r["timeline"]
        xs = [0.0] + [t / 60 for t, _ in steps] + [r["simulated_s"] / 60]
        ys = [0.0] + [f * 100 for _, f in steps] + [r["complete_fraction"] * 100]
        ax.step(xs, ys, where="post", label=f"{r['protocol']} ({r['airtime_s']:.0f} s airtime)")
    ax.set_xlabel("simulated time (min)")
    ax.set_ylabel("nodes holding every work (%)")
    ax.set_ylim(0, 105)
    ax.set_title(caption(results[0], protocol=False), fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def works_figure(result: dict[str, Any]) -> Figure:
    """One row per work: published (|), each node's copy (dots), and the band until every node held it.

    A work not held everywhere by the end has a red band to the end of the run and says how many
    nodes hold it. The dashed line is when every node held every manifest (the catalogue).
    """
    works = result["works"]
    nodes = result["nodes"]
    end_min = result["simulated_s"] / 60
    fig, ax = plt.subplots(figsize=(8.5, 1.6 + 0.32 * len(works)), layout="constrained")
    for row, work in enumerate(works):
        copies = sorted(t / 60 for n in nodes if (t := n["work_completion_s"][work["index"]]) is not None)
        everywhere = work["everywhere_s"]
        if copies:
            until = end_min if everywhere is None else everywhere / 60
            ax.barh(row, until - copies[0], left=copies[0], height=0.55,
                    color="tab:red" if everywhere is None else "tab:green", alpha=0.35, zorder=1)
            ax.scatter(copies, [row] * len(copies), s=9, color="black", zorder=3)
        if everywhere is None:
            ax.annotate(f"{work['nodes_holding']}/{result['node_count']} nodes", (end_min, row), xytext=(4, 0),
                        textcoords="offset points", va="center", fontsize=7, color="tab:red")
    ax.scatter([w["published_s"] / 60 for w in works], range(len(works)), marker="|", s=160, linewidths=2,
               color="tab:blue", zorder=2)
    handles: list[Artist] = [
        Line2D([], [], color="tab:blue", marker="|", linestyle="none", markersize=12, markeredgewidth=2,
               label="published"),
        Line2D([], [], color="black", marker="o", linestyle="none", markersize=3, label="a node holds it"),
        Patch(color="tab:green", alpha=0.35, label="first copy until every node holds it"),
        Patch(color="tab:red", alpha=0.35, label="not every node by the end"),
    ]
    if result["catalogue_s"] is not None:
        handles.append(ax.axvline(result["catalogue_s"] / 60, color="0.4", linestyle="--", linewidth=1,
                                  label=f"every node holds every manifest ({result['catalogue_s'] / 60:.0f} min)"))
    ax.set_yticks(range(len(works)), [f"{w['index'] + 1}. {w['kind']} {w['size'] / 1024:.0f} KiB @ {w['venue']}"
                                      for w in works], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(-0.02 * end_min, end_min * 1.1)
    ax.set_xlabel("simulated time (min)")
    ax.set_title(f"when each work is held\n{caption(result)}", fontsize=10)
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=7)
    ax.grid(axis="x", alpha=0.3)
    return fig


def airtime_figure(results: list[dict[str, Any]]) -> Figure:
    """Every node's airtime in its busiest rolling hour, one bar per protocol, against the limit."""
    nodes = results[0]["nodes"]
    limit_s = results[0]["duty_cycle_limit"] * 3600
    width = 0.8 / len(results)
    fig, ax = plt.subplots(figsize=(max(7.0, 0.3 * len(nodes) * len(results) + 2), 4.4))
    for k, r in enumerate(results):
        xs = [i - 0.4 + width * (k + 0.5) for i in range(len(r["nodes"]))]
        ax.bar(xs, [n["max_duty_cycle"] * 3600 for n in r["nodes"]], width=width,
               label=f"{r['protocol']} ({r['airtime_s']:.0f} s in all)")
    ax.axhline(limit_s, color="red", linestyle="--", label=f"limit {limit_s:.0f} s per hour")
    if len(nodes) <= MAX_LABELLED_NODES:
        ax.set_xticks(range(len(nodes)), [n["name"] for n in nodes], rotation=70, fontsize=7)
    else:
        ax.set_xlabel("node")
    ax.set_ylim(0, limit_s * 1.3)  # room above the limit for the legend
    ax.set_ylabel("airtime in the busiest hour (s)")
    ax.set_title(caption(results[0], protocol=False), fontsize=10)
    ax.legend(loc="upper left", ncol=len(results) + 1, fontsize=8)
    fig.tight_layout()
    return fig
