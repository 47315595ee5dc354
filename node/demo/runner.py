"""``mesh-art demo``: four venue daemons in one process on a simulated LoRa channel.

Each node is a real :class:`~node.daemon.runner.NodeDaemon` with its own SQLite store and
gallery; they talk only through :class:`~node.demo.air.DemoAir`, the simulator's channel model
on the asyncio loop. Sample works are made at first run and published at different venues.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from node.config import NodeConfig
from node.daemon.runner import NodeDaemon
from node.demo.air import AirTransport, DemoAir
from node.demo.samples import demo_keys, sample_bundles, write_demo_keys
from node.lora import preset as lookup_preset
from simulator.scenarios import load_scenario

log = logging.getLogger("node.demo")

# Faster adverts and beacons than a real exhibition would use, so a visitor sees the network
# form within a minute; every other protocol setting is the real default.
DEMO_ENGINE_TUNING = {"trickle_imin_s": 10.0, "trickle_doublings": 6, "beacon_interval_s": 120.0}


@dataclass(frozen=True)
class DemoOptions:
    """What ``mesh-art demo`` was asked for."""

    data_dir: Path | None = None
    scenario: str = "amsterdam"
    preset: str = "MEDIUM_FAST"
    speed: float = 1.0
    base_port: int = 8401
    host: str = "127.0.0.1"
    seed: int = 1
    publish: bool = True


class DemoMesh:
    """The running demo: nodes, channel, and the ports their galleries listen on."""

    def __init__(self, options: DemoOptions) -> None:
        self.options = options
        self.topology = load_scenario(options.scenario, options.seed)
        self.air = DemoAir(self.topology, lookup_preset(options.preset), speed=options.speed, seed=options.seed)
        self.daemons: dict[str, NodeDaemon] = {}
        self.stop = asyncio.Event()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def data_root(self) -> Path:
        """Where the nodes keep their stores (a temporary directory unless --data-dir)."""
        if self.options.data_dir is not None:
            return self.options.data_dir
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="mesh-art-demo-")
        return Path(self._tmp.name)

    def build(self) -> None:
        """Create one daemon per scenario node."""
        root = self.data_root()
        keys = demo_keys()
        trust_pub = write_demo_keys(keys, root / "keys")
        for index, spec in enumerate(self.topology.nodes):
            label = getattr(spec, "label", None) or spec.name
            config = replace(
                NodeConfig(),
                name=f"Mesh Art Node {label}", venue=label, lat=spec.lat, lon=spec.lon,
                data_dir=root / spec.name, key_file=root / spec.name / "node.key", trust=(str(trust_pub),),
                http_host=self.options.host, http_port=self.options.base_port + index,
                seed=self.options.seed * 1000 + index, engine=dict(DEMO_ENGINE_TUNING), source="(demo)",
            )
            transport = AirTransport(self.air, index)
            self.daemons[spec.name] = NodeDaemon(config, [transport], clock_scale=self.options.speed,
                                                 handle_signals=False)

    async def publish_samples(self) -> list[str]:
        """Publish each sample work at its venue, unless that venue already holds it."""
        published = []
        for venue, bundles in sample_bundles().items():
            daemon = self.daemons.get(venue)
            if daemon is None or daemon.store is None:
                continue
            for bundle in bundles:
                if daemon.store.is_complete(bundle.work_id):
                    continue
                await daemon.ingest(bundle.to_bytes())
                published.append(f"{bundle.signed.manifest.title.get('en', '?')} at {venue}")
        return published

    def urls(self) -> list[tuple[str, str]]:
        """(node name, gallery URL) for every node."""
        return [(name, f"http://{self.options.host}:{d.config.http_port}/") for name, d in self.daemons.items()]

    async def run(self, announce: bool = True) -> None:
        """Start every node, publish the samples, serve until :meth:`request_stop`."""
        self.build()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, self.request_stop)
        try:
            async with asyncio.TaskGroup() as group:
                for name, daemon in self.daemons.items():
                    group.create_task(daemon.run(), name=f"node-{name}")
                # a node that fails to start fails the group, which cancels this wait
                await asyncio.gather(*(d.ready.wait() for d in self.daemons.values()))
                published = await self.publish_samples() if self.options.publish else []
                if announce:
                    print(self.explanation(published), flush=True)
                await self.stop.wait()
                for daemon in self.daemons.values():
                    daemon.request_stop("demo stopping")
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(signum)
            if self._tmp is not None:
                self._tmp.cleanup()

    def request_stop(self) -> None:
        """Stop every node cleanly (Ctrl-C)."""
        self.stop.set()

    def explanation(self, published: list[str]) -> str:
        """The one screen printed when the demo is up."""
        lines = [
            "",
            "Mesh Art Network demo: four venue nodes on a simulated LoRa channel "
            f"({self.options.preset}, EU868 10 % duty cycle, speed x{self.options.speed:g}).",
            "",
            "Open the galleries:",
        ]
        for (name, url), spec in zip(self.urls(), self.topology.nodes, strict=True):
            label = getattr(spec, "label", None) or name
            lines.append(f"  {label:<34} {url}")
        lines += [
            "",
            "Each node verifies every signature and chunk hash before it stores or shows anything.",
            "Works published at one venue travel over the air, chunk by chunk: watch them arrive",
            "on the other galleries (Works and Network pages update live).",
        ]
        if published:
            lines.append("")
            lines.append("Published now: " + "; ".join(published) + ".")
        data = self.options.data_dir or "a temporary directory (use --data-dir to keep it)"
        lines += ["", f"Stores: {data}.", "Press Ctrl-C to stop.", ""]
        return "\n".join(lines)
