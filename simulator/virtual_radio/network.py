"""A scenario's radios on one simulated channel, each served on its own TCP port, in real time."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from pathlib import Path

from simulator.virtual_radio.air import Air
from simulator.virtual_radio.api_session import serve_radio
from simulator.virtual_radio.radio import HOUR_S, VirtualRadio
from simulator.virtual_radio.rf import preset_name
from simulator.virtual_radio.sites import Scenario
from simulator.virtual_radio.state import load_or_create, node_id
from simulator.virtual_radio.timing import FIRMWARE, FirmwareTiming

ANNOUNCE_SPREAD_S = 2.0  # radios boot at slightly different moments, then announce themselves


@dataclass
class NetworkOptions:
    """How to run the radios."""

    host: str = "127.0.0.1"
    base_port: int = 4403  # 0: let the OS choose a free port for each radio (tests)
    preset: str = "MEDIUM_FAST"  # preset of radios without saved state
    state_dir: Path | None = None  # keep each radio's config in STATE_DIR/NAME.json
    duty_window_s: float = HOUR_S
    seed: int = 1
    announce: bool = True  # run the firmware's own broadcasts (NodeInfo, position, telemetry) from boot
    timing: FirmwareTiming = FIRMWARE  # the firmware's delays; tests shorten them
    fading: bool = False  # per-frame shadowing on the air (off: the same neighbours on every run)


class RadioNetwork:
    """Runs the radios of one scenario; use inside a running event loop."""

    def __init__(self, scenario: Scenario, options: NetworkOptions | None = None) -> None:
        self.scenario = scenario
        self.options = options or NetworkOptions()
        self.radios: list[VirtualRadio] = []
        self.ports: list[int] = []
        self._servers: list[asyncio.Server] = []
        self.air: Air | None = None

    async def start(self) -> None:
        """Create the radios and open one listening port per radio."""
        loop = asyncio.get_running_loop()
        options = self.options
        rng = random.Random(options.seed)
        self.air = Air(self.scenario.links, loop.time, loop.call_later, fading=options.fading, seed=options.seed)
        if options.state_dir is not None:
            options.state_dir.mkdir(parents=True, exist_ok=True)
        for index, site in enumerate(self.scenario.sites):
            state = load_or_create(site.name, options.state_dir, preset=options.preset, latitude=site.lat,
                                   longitude=site.lon, altitude_m=round(site.height_m))
            radio = VirtualRadio(index, state, self.air, loop.time, loop.call_later,
                                 random.Random(rng.getrandbits(64)), options.duty_window_s, self._save,
                                 options.timing)
            self.radios.append(radio)
            self._save(radio)
        try:
            for index, radio in enumerate(self.radios):
                port = options.base_port + index if options.base_port else 0
                server = await serve_radio(radio, options.host, port)
                self._servers.append(server)
                self.ports.append(server.sockets[0].getsockname()[1])
        except OSError:
            await self.close()
            raise
        for radio in self.radios:
            if options.announce:
                loop.call_later(rng.uniform(0.05, ANNOUNCE_SPREAD_S), radio.boot)
            else:
                radio.boot(broadcasts=False)

    def _save(self, radio: VirtualRadio) -> None:
        if self.options.state_dir is not None:
            radio.state.save(self.options.state_dir / f"{self.scenario.sites[radio.index].name}.json")

    async def close(self) -> None:
        """Stop listening and drop every client."""
        for server in self._servers:
            server.close()
        for radio in self.radios:
            if radio.client is not None:
                radio.client.close()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    def port_of(self, name: str) -> int:
        """The TCP port of the radio of scenario node ``name``."""
        for site, port in zip(self.scenario.sites, self.ports, strict=True):
            if site.name == name:
                return port
        raise KeyError(name)

    def radio(self, name: str) -> VirtualRadio:
        """The radio of scenario node ``name``."""
        for site, radio in zip(self.scenario.sites, self.radios, strict=True):
            if site.name == name:
                return radio
        raise KeyError(name)

    def table(self) -> str:
        """The node-to-port table printed at start."""
        rows = [("node", "id", "address", "preset", "neighbours")]
        for site, radio, port in zip(self.scenario.sites, self.radios, self.ports, strict=True):
            rf = radio.rf_now()
            neighbours = [other.name for other in self.scenario.sites if other is not site and rf is not None
                          and self.scenario.links.link(radio.index, self.scenario.sites.index(other),
                                                       radio.tx_power_dbm(), rf.preset) is not None]
            preset = preset_name(radio.state.lora) if rf is not None else "region unset"
            rows.append((site.name, node_id(radio.node_num), f"{self.options.host}:{port}", preset,
                         ",".join(neighbours) or "-"))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                         for row in rows)
