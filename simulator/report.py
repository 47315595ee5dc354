"""Human-readable output: the summary table and a progress bar on stderr."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def summary_lines(result: dict[str, Any]) -> list[str]:
    """The headline figures of one run."""
    r = result
    completion = "not all nodes" if r["completion_s"] is None else f"{r['completion_s']:.1f} s"
    lines = [
        f"{r['protocol']} on {r['scenario']} ({r['node_count']} nodes), workload {r['workload']} "
        f"({r['work_count']} works, {r['size']} bytes), {r['preset']}, seed {r['seed']}, loss {r['loss']}, "
        f"background {r.get('background', 0.0):g}",
        f"  complete: {r['complete_fraction'] * 100:.0f} % of nodes hold every work; last completion {completion}",
    ]
    if r["work_count"] > 1:
        lines.append(
            f"  works everywhere: {r['works_everywhere']} of {r['work_count']}; first {_fmt(r['first_work_s'])} s, "
            f"median {_fmt(r['median_work_s'])} s, last {_fmt(r['last_work_s'])} s; "
            f"catalogue everywhere {_fmt(r['catalogue_s'])} s")
    lines += [
        f"  airtime: {r['airtime_s']:.1f} s total; cut-set bound {_fmt(r['lp_bound_airtime_s'])} s, "
        f"ratio {_fmt(r['airtime_over_lp'], 2)} (MCDS reference {r['mcds_reference_airtime_s']:.1f} s, not a bound)",
        f"  completion over the time bound {_fmt(r['lp_time_bound_s'])} s: {_fmt(r['completion_over_time_bound'], 2)}",
        f"  busiest hour: {r['max_duty_cycle'] * 100:.2f} % of the {r['duty_cycle_limit'] * 100:.0f} % limit; "
        f"busiest channel {r['max_busy_fraction'] * 100:.1f} %; "
        f"foreign traffic on the air {r.get('background_busy_fraction', 0.0) * 100:.1f} %; "
        f"frames sent {r['frames_sent']}, collisions {r['collisions']}, refused {r['refused']}",
        f"  simulated {r['simulated_s']:.0f} s in {r.get('_wall_s', 0.0):.2f} s wall ({r['events']} events)",
    ]
    return lines


def node_table(result: dict[str, Any]) -> list[str]:
    """One row per node."""
    header = ("node", "hops", "done at s", "airtime s", "max duty %", "sent", "heard", "refused", "collisions")
    rows = [header]
    for n in result["nodes"]:
        rows.append((n["name"], _fmt(n["hops"]), _fmt(n["completion_s"]), _fmt(n["airtime_s"]),
                     f"{n['max_duty_cycle'] * 100:.2f}", str(n["frames_sent"]), str(n["frames_received"]),
                     str(n["refused"]), str(n["collisions"])))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for k, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def render_run(result: dict[str, Any]) -> str:
    """Summary plus node table."""
    return "\n".join([*summary_lines(result), "", *node_table(result)])


def render_compare(result: dict[str, Any]) -> str:
    """Gossip and the two fair floods, then each flood's airtime over gossip's."""
    lines: list[str] = []
    for protocol in ("gossip", "flood-repair", "flood-expert"):
        lines += [render_run(result[protocol]), ""]
    for protocol, key in (("flood-repair", "flood_repair_over_gossip_airtime"),
                          ("flood-expert", "flood_expert_over_gossip_airtime")):
        done = result[protocol]["complete_fraction"]
        note = "" if done == 1.0 else f" (incomplete: {done * 100:.0f} % of nodes)"
        lines.append(f"{protocol} / gossip airtime: {_fmt(result[key], 2)}{note}")
    return "\n".join(lines)


class ProgressBar:
    """A one-line bar on a terminal, shown only once a run has taken more than ``after_s``.

    Nothing is drawn when the stream is not a terminal (logs, pipes, tests).
    """

    def __init__(self, stream: TextIO = sys.stderr, after_s: float = 1.0, width: int = 30) -> None:
        self.stream = stream
        self.after_s = after_s
        self.width = width
        self.started = time.perf_counter()
        self.shown = False

    def __call__(self, simulated_s: float, horizon_s: float) -> None:
        elapsed = time.perf_counter() - self.started
        frac = min(1.0, simulated_s / horizon_s) if horizon_s > 0 else 1.0
        rate = simulated_s / elapsed if elapsed > 0 else 0.0
        self.draw(frac, f"{simulated_s / 3600:5.2f} h simulated, {rate:,.0f} sim-s per wall-s")

    def draw(self, frac: float, text: str) -> None:
        """Redraw the bar at ``frac`` (0..1) followed by ``text``, once ``after_s`` has passed."""
        if time.perf_counter() - self.started < self.after_s or not self.stream.isatty():
            return
        self.shown = True
        filled = int(frac * self.width)
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {text}")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line if it was drawn."""
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


class RunCountBar(ProgressBar):
    """The progress bar of a sweep: runs done out of the sweep's runs, and the time left at this pace."""

    def __call__(self, done: float, total: float) -> None:
        elapsed = time.perf_counter() - self.started
        left = elapsed / done * (total - done) if done else 0.0
        self.draw(done / total if total else 1.0, f"{done:.0f} of {total:.0f} runs, about {left:,.0f} s left")
