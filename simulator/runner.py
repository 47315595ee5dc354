"""Run a scenario with one protocol (or both) and collect the figures as a JSON-ready dict."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from node.lora import MAX_APP_PAYLOAD
from simulator.bound import bound_airtime, min_connected_dominating_set
from simulator.channel.background import MAX_UTILISATION
from simulator.channel.propagation import ChannelModel, preset
from simulator.clock import TICKS_PER_SECOND, to_seconds
from simulator.lpbound import (
    EXACT_SEPARATION_LIMIT,
    WorkDemand,
    delivery_from_links,
    full_frame_airtime,
    payload_per_full_frame,
    time_bound,
    workload_airtime_bound,
)
from simulator.protocols import FloodDriver, make_driver
from simulator.scenarios import Topology, load_scenario
from simulator.workload import PublishedWork, make_workload, resolve_specs
from simulator.world import SimNode, World

SETTLE_S = 10.0  # keep running this long after the last node completes, so frames in flight count
Progress = Callable[[float, float], None]  # (simulated seconds so far, horizon seconds)


@dataclass
class RunSpec:
    """Everything that defines a run."""

    scenario: str
    size: int = 32 * 1024
    preset: str = "MEDIUM_FAST"
    seed: int = 1
    loss: float = 0.0
    protocol: str = "gossip"
    hours: float = 6.0
    duty_rule: str = "strict"
    stop_on_complete: bool = True  # False: run the whole horizon (speed benchmarks, steady state)
    workload: str | None = None  # "exhibition" or a workload JSON file; None: --works or one work
    works: int | None = None  # N works of ``size`` bytes, round-robin at the venues at t = 0
    hop_limit: int | None = None  # flood variants: None is 3, or what the expert needs to cross its routers
    background: float = 0.0  # foreign traffic's share of the slot's time (simulator.channel.background)
    radio_metrics: bool = True  # engines get their radio's channel utilisation every 60 s, as on a Pi
    signed_broadcasts: bool = False  # firmware 2.8: broadcasts whose Data fits carry a 66-byte signature
    model: ChannelModel = field(default_factory=ChannelModel)

    def check(self) -> None:
        """Raise ValueError with a one-line reason for impossible settings."""
        if not 0 < self.size <= 10 * 1024 * 1024:
            raise ValueError(f"--size must be 1..10485760 bytes, got {self.size}")
        if not 0.0 <= self.loss < 1.0:
            raise ValueError(f"--loss must be in 0..1 (exclusive), got {self.loss}")
        if not 0.0 <= self.background <= MAX_UTILISATION:
            raise ValueError(f"--background must be in 0..{MAX_UTILISATION}, got {self.background}")
        if not 0 < self.hours <= 24 * 30:
            raise ValueError(f"--hours must be in (0, 720], got {self.hours}")
        preset(self.preset)


def build_world(spec: RunSpec, topology: Topology | None = None) -> World:
    """The world for ``spec``, started (the source has published)."""
    spec.check()
    topo = topology or load_scenario(spec.scenario, spec.seed)
    p = preset(spec.preset)
    name, specs = resolve_specs(spec.workload, spec.works, spec.size)
    workload = make_workload(specs, spec.seed, topo, name)
    driver = make_driver(spec.protocol, workload, p, spec.hop_limit, spec.signed_broadcasts)
    world = World(topo, p, driver, seed=spec.seed, model=spec.model, loss=spec.loss, duty_rule=spec.duty_rule,
                  background=spec.background, radio_metrics=spec.radio_metrics,
                  signed_broadcasts=spec.signed_broadcasts)
    if isinstance(driver, FloodDriver):  # the expert's roles come from the world's links
        driver.plan(world.links.usable, world.source, sorted({topo.index(w.venue) for w in workload.works}))
    world.start()
    return world


def run(spec: RunSpec, progress: Progress | None = None, topology: Topology | None = None) -> dict[str, Any]:
    """Simulate until every node completes (plus a short settle time) or the horizon passes."""
    started = time.perf_counter()
    world = build_world(spec, topology)
    horizon = round(spec.hours * 3600 * TICKS_PER_SECOND)
    remaining = [sum(1 for n in world.nodes if n.completed_at is None)]

    def completed(node: SimNode) -> None:
        remaining[0] -= 1

    world.on_complete = completed
    step = 60 * TICKS_PER_SECOND
    t = 0
    stop = (lambda: remaining[0] == 0) if spec.stop_on_complete else None
    while t < horizon and len(world.queue) and not (stop is not None and stop()):
        t = min(horizon, t + step)
        world.queue.run_until(t, stop=stop)
        if progress is not None:
            progress(to_seconds(world.queue.now), spec.hours * 3600)
    end = world.queue.now
    if remaining[0] == 0 and spec.stop_on_complete:
        end = min(horizon, world.queue.now + round(SETTLE_S * TICKS_PER_SECOND))
        world.queue.run_until(end)
    else:
        end = horizon
    result = collect(world, spec, end)
    result["_wall_s"] = round(time.perf_counter() - started, 3)  # not in the JSON: it would break determinism
    result["events"] = world.queue.processed
    result["_usable"] = world.links.usable  # for plots; keys starting with "_" are not printed
    return result


def collect(world: World, spec: RunSpec, end_tick: int) -> dict[str, Any]:
    """The run's figures: totals, per-work and per-node completion, the lower bounds, one entry per node."""
    p = world.preset
    hops = world.links.hops_from(world.source)
    mcds = min_connected_dominating_set(world.links.usable, world.source)
    works = world.driver.works
    full_frame = p.frame_airtime(MAX_APP_PAYLOAD)
    reference = sum(bound_airtime(w.size, full_frame, len(mcds.members)) for w in works)
    counted = [n for n in world.nodes if world.driver.counts(n)]
    bounds = lower_bounds(world, spec.loss)
    nodes: list[dict[str, Any]] = []
    airtime_total = 0.0
    simulated = max(to_seconds(end_tick), 1e-9)
    for node in world.nodes:
        airtime = sum(e - s for s, e in node.ledger.history) / TICKS_PER_SECOND
        airtime_total += airtime
        nodes.append({
            "name": node.spec.name,
            "lat": node.spec.lat,
            "lon": node.spec.lon,
            "antenna_m": node.spec.antenna_m,
            "hops": hops[node.index],
            "complete": node.completed_at is not None,
            "completion_s": _seconds(node.completed_at),
            "works_complete": len(node.work_done),
            "work_completion_s": [_seconds(node.work_done.get(w.index)) for w in works],
            "catalogue_s": (_seconds(max(node.manifest_at.values()))
                            if len(node.manifest_at) == len(works) else None),
            "airtime_s": round(airtime, 4),
            "max_duty_cycle": round(node.ledger.max_share(), 5),
            "busy_fraction": round(to_seconds(world.busy_ticks(node)) / simulated, 5),
            "frames_sent": node.frames_sent,
            "frames_received": node.frames_received,
            "refused": node.refused,
            "too_large": node.too_large,
            "collisions": world.collisions_at(node),
            "in_mcds": node.index in mcds.members,
        })
    work_rows = [_work_row(w, counted) for w in works]
    everywhere = sorted(r["everywhere_s"] for r in work_rows if r["everywhere_s"] is not None)
    manifests = [n.manifest_at for n in counted]
    catalogue = (to_seconds(max(max(m.values()) for m in manifests))
                 if manifests and all(len(m) == len(works) for m in manifests) else None)
    done: list[float] = [n["completion_s"] for n, node in zip(nodes, world.nodes, strict=True)
                         if n["complete"] and world.driver.counts(node)]
    complete_fraction = len(done) / len(counted) if counted else 0.0
    names = [n.spec.name for n in world.nodes]
    return {
        "scenario": world.topology.name,
        "protocol": spec.protocol,
        "preset": p.name,
        "workload": world.driver.workload_name,
        "work_count": len(works),
        "size": sum(w.size for w in works),
        "seed": spec.seed,
        "loss": spec.loss,
        "background": spec.background,
        "background_busy_fraction": round(to_seconds(world.medium.foreign_busy_ticks) / simulated, 5),
        "background_frames": sum(s.frames for s in world.background.sources),
        "hours": spec.hours,
        "duty_rule": spec.duty_rule,
        "node_count": len(nodes),
        "source": world.topology.source,
        "complete_fraction": round(complete_fraction, 4),
        "completion_s": max(done) if complete_fraction == 1.0 else None,
        "catalogue_s": None if catalogue is None else round(catalogue, 3),
        "first_work_s": everywhere[0] if everywhere else None,
        "median_work_s": statistics.median(everywhere) if len(everywhere) == len(works) else None,
        "last_work_s": everywhere[-1] if len(everywhere) == len(works) else None,
        "works_everywhere": len(everywhere),
        "simulated_s": round(to_seconds(end_tick), 3),
        "airtime_s": round(airtime_total, 4),
        "lp_bound_airtime_s": _round(bounds.airtime_s),
        "airtime_over_lp": _ratio(airtime_total, bounds.airtime_s),
        "lp_time_bound_s": _round(bounds.time_s),
        "completion_over_time_bound": _ratio(max(done) if complete_fraction == 1.0 else None, bounds.time_s),
        "lp_exact": bounds.exact,
        "mcds_reference_airtime_s": round(reference, 4),
        "mcds_method": "exact" if mcds.exact else "greedy",
        "mcds": [names[i] for i in mcds.members],
        "reachable_nodes": mcds.reachable,
        "max_hops": max((h for h in hops if h is not None), default=0),
        "duty_cycle_limit": world.nodes[0].ledger.limit,
        "max_duty_cycle": max((float(n["max_duty_cycle"]) for n in nodes), default=0.0),
        "max_busy_fraction": max((float(n["busy_fraction"]) for n in nodes), default=0.0),
        "frames_sent": sum(n["frames_sent"] for n in nodes),
        "collisions": world.collisions,
        "refused": sum(n["refused"] for n in nodes),
        "timeline": completion_timeline(nodes),
        "works": work_rows,
        "nodes": nodes,
    }


@dataclass(frozen=True)
class LowerBounds:
    """The cut-set bounds of a run's job (``simulator.lpbound``); None where not computed."""

    airtime_s: float | None
    time_s: float | None
    exact: bool


LP_NODE_LIMIT = 150  # above this the cut search costs more than the run; the figures are left out


def lower_bounds(world: World, loss: float) -> LowerBounds:
    """Least expected airtime and completion time any scheme needs for the world's workload.

    Each work must deliver its content and its signed manifest to every node its venue reaches;
    delivery probabilities are the world's own per-frame fading, ``--loss`` and per-link losses.
    """
    if len(world.nodes) > LP_NODE_LIMIT or not world.driver.works:
        return LowerBounds(None, None, False)
    p = world.preset
    delivery = delivery_from_links(world.links, world.model.shadowing_sigma_db, loss)
    counted = [world.driver.counts(n) for n in world.nodes]
    if not all(counted):  # nodes outside the figures (an attacker) need not receive: drop them
        keep = [i for i, c in enumerate(counted) if c]
        delivery = delivery[np.ix_(keep, keep)]
        index = {old: new for new, old in enumerate(keep)}
    else:
        index = {i: i for i in range(len(world.nodes))}
    demands = [WorkDemand(index[world.topology.index(w.venue)], w.size + w.manifest_bytes, w.at_s)
               for w in world.driver.works]
    full = full_frame_airtime(p)
    per_frame = payload_per_full_frame(p)
    airtime = workload_airtime_bound(delivery, demands, full, frame_payload=per_frame)
    horizon = time_bound(delivery, demands, full, world.nodes[0].ledger.limit, frame_payload=per_frame)
    exact = len(delivery) <= EXACT_SEPARATION_LIMIT
    return LowerBounds(airtime, horizon, exact)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _ratio(value: float | None, bound: float | None) -> float | None:
    return None if value is None or not bound else round(value / bound, 4)


def _seconds(tick: int | None) -> float | None:
    return None if tick is None else round(to_seconds(tick), 3)


def _work_row(work: PublishedWork, counted: list[SimNode]) -> dict[str, Any]:
    """One work: where and when it was published, and when every counted node held it."""
    times = [n.work_done.get(work.index) for n in counted]
    held = sorted(t for t in times if t is not None)
    return {
        "index": work.index,
        "venue": work.venue,
        "kind": work.kind,
        "size": work.size,
        "manifest_bytes": work.manifest_bytes,
        "published_s": work.at_s,
        "priority": work.priority,
        "nodes_holding": len(held),
        "everywhere_s": _seconds(held[-1]) if held and len(held) == len(times) else None,
    }


def public(result: dict[str, Any]) -> dict[str, Any]:
    """The result without its private ("_") keys, ready for JSON."""
    out = {}
    for key, value in result.items():
        if key.startswith("_"):
            continue
        out[key] = public(value) if isinstance(value, dict) else value
    return out


def completion_timeline(nodes: list[dict[str, Any]]) -> list[list[float]]:
    """[time, fraction complete] steps, for the completion-over-time plot."""
    times = sorted(n["completion_s"] for n in nodes if n["complete"])
    return [[t, round((i + 1) / len(nodes), 4)] for i, t in enumerate(times)]


COMPARED = ("gossip", "flood-repair", "flood-expert")


def compare(spec: RunSpec, progress: Progress | None = None) -> dict[str, Any]:
    """Gossip, flood-repair and flood-expert on the same scenario, workload and seed, each to completion.

    The ratios divide each flood's airtime by gossip's; a flood that did not complete still gets
    its ratio (it only grows with completion), and ``complete_fraction`` in its run says so.
    """
    topology = load_scenario(spec.scenario, spec.seed)
    results = {protocol: run(RunSpec(**{**spec.__dict__, "protocol": protocol}), progress, topology)
               for protocol in COMPARED}
    gossip = results["gossip"]["airtime_s"]

    def ratio(protocol: str) -> float | None:
        return round(results[protocol]["airtime_s"] / gossip, 4) if gossip > 0 else None

    return {
        "scenario": results["gossip"]["scenario"],
        **results,
        "flood_repair_over_gossip_airtime": ratio("flood-repair"),
        "flood_expert_over_gossip_airtime": ratio("flood-expert"),
    }
