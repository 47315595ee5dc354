"""Assemble and run one node: store, keys, engine, transports, HTTP, signals, systemd.

``NodeDaemon(config).run()`` is the whole life of ``mesh-art node run``. All long-running work
lives in one ``asyncio.TaskGroup``: a task per transport, the systemd watchdog, and the task
that waits for SIGTERM/SIGINT and then cancels the others. The store is closed last, after the
transports and the HTTP server have stopped, so nothing writes to it while it closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from node.artwork.bundle import read_bundle
from node.artwork.endorsement import TrustAnchors
from node.artwork.errors import KeyFileError
from node.artwork.keys import PublicKey, SecretKey, load_public, load_secret, write_keypair
from node.config import ConfigError, NodeConfig
from node.daemon.clock import TrustedClock
from node.daemon.driver import EngineDriver
from node.daemon.http import DAEMON_FILE, HttpServer, build_app, start_http, write_daemon_file
from node.daemon.notify import sd_notify, watchdog_interval
from node.daemon.status import StatusDocument, build_status, metrics_text, public_status
from node.daemon.store_watch import StoreWatch
from node.daemon.venues import venue_names
from node.eventhub import EventHub
from node.gallery.context import Arrival, GalleryContext, HeardPeer, NodeSelf
from node.protocol import EngineConfig, GossipEngine, LinkConfig
from node.protocol.events import WorkCompleted
from node.store.base import Quotas, WorkStore
from node.store.sqlite import SqliteStore
from node.transport.base import Transport

if TYPE_CHECKING:
    from meshtastic.protobuf.channel_pb2 import ChannelSettings
    from meshtastic.protobuf.localonly_pb2 import LocalConfig

    from firmware_config.kit import Kit
    from firmware_config.safety import RadioFinding
    from node.transport.meshtastic_radio import RadioCheck

log = logging.getLogger("node.daemon")

VERSION = "0.1.0"
MIB = 1024 * 1024


def load_or_create_node_key(path: Path) -> SecretKey:
    """The node's signing key; generated (file mode 0600) on first run."""
    if path.exists():
        try:
            return load_secret(path, role="node")
        except KeyFileError as exc:
            raise ConfigError(str(exc)) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    key = SecretKey.generate("node")
    write_keypair(key, path)
    log.info("node key created path=%s fingerprint=%s", path, key.public.fingerprint)
    return key


def load_trust(entries: tuple[str, ...]) -> TrustAnchors:
    """Curator public keys from ``.pub`` files or base64 text."""
    keys = []
    for entry in entries:
        try:
            keys.append(load_public(entry))
        except KeyFileError as exc:
            raise ConfigError(f"[node] trust: {exc}") from None
    return TrustAnchors(keys)


def open_store(config: NodeConfig) -> WorkStore:
    """The SQLite store in the data directory (or a memory store when configured)."""
    quotas = Quotas(total_bytes=config.quota_mb * MIB, per_artist_bytes=min(16 * MIB, config.quota_mb * MIB))
    if config.store == "memory":
        from node.store.memory import MemoryStore

        return MemoryStore(quotas)
    from node.store.sqlite import SqliteStore

    store = SqliteStore(config.data_dir, quotas)  # runs SQLite's quick_check; raises if damaged
    try:
        demoted = store.verify_integrity()  # re-hash complete works: a worn SD card may flip bits
    except BaseException:
        store.close()
        raise
    if demoted:
        log.warning("store integrity: %d complete works failed their hashes and will be fetched again: %s",
                    len(demoted), ",".join(w.hex()[:16] for w in demoted))
    else:
        log.info("store integrity ok works=%d", len(store.work_ids()))
    return store


def load_exhibition_kit(path: Path | None) -> Kit | None:
    """The exhibition kit named by ``[node] kit`` (None without one)."""
    if path is None:
        return None
    from firmware_config.kit import KitError, load_kit

    try:
        kit = load_kit(path)
        kit.expectation()  # reads the channel key now, so a broken kit stops the start with one line
    except KitError as exc:
        raise ConfigError(f"[node] kit: {exc}") from None
    return kit


def fingerprint_of(key: PublicKey) -> str:
    """A public key's fingerprint (for the gallery's list of trusted curators)."""
    return key.fingerprint


def node_id_of(key: SecretKey) -> str:
    """Short, topic-safe id of a node (first 16 hex digits of its public key)."""
    return key.public.raw.hex()[:16]


class NodeDaemon:
    """One running node. Extra transports (e.g. in-memory ones) can be passed in for tests/demo."""

    def __init__(self, config: NodeConfig, extra_transports: list[Transport] | None = None,
                 clock_scale: float = 1.0, handle_signals: bool = True) -> None:
        self.config = config
        self.clock_scale = clock_scale
        self.handle_signals = handle_signals
        self.extra_transports = extra_transports or []
        self.hub = EventHub()
        self.stop_requested = asyncio.Event()
        self.started_at = time.time()
        self.started_monotonic = time.monotonic()
        self.http: HttpServer | None = None
        self.http_port: int | None = None
        self.driver: EngineDriver | None = None
        self.transports: dict[str, Transport] = {}
        self.store: WorkStore | None = None
        self.identity: SecretKey | None = None
        self.trust = TrustAnchors()
        self.kit: Kit | None = None
        self.store_watch: StoreWatch | None = None
        self.ready = asyncio.Event()

    # ---- assembly -------------------------------------------------------------------------------

    def build_transports(self, node_id: str) -> list[Transport]:
        """Transports named in the config, plus any passed in."""
        transports = list(self.extra_transports)
        if self.config.radio is not None:
            from node.transport.meshtastic_radio import MeshtasticTransport

            transports.append(MeshtasticTransport("radio", self.config.radio, radio_check=self.radio_check()))
        if self.config.mqtt is not None:
            from node.transport.mqtt import MqttTransport

            transports.append(MqttTransport("mqtt", self.config.mqtt, node_id))
        return transports

    def radio_check(self) -> RadioCheck:
        """The radio-safety rules for the connected radio, against the kit when there is one."""
        from firmware_config.safety import radio_findings

        expected = self.kit.expectation() if self.kit is not None else None

        def check(config: LocalConfig, primary: ChannelSettings | None, ignored: Sequence[str]) -> list[RadioFinding]:
            return radio_findings(config, primary, ignored, expected)

        return check

    def build_engine(self, identity: SecretKey, store: WorkStore,
                     transports: list[Transport]) -> GossipEngine | None:
        """A ``GossipEngine`` with one link per transport (None when there are no transports)."""
        if not transports:
            return None
        links = []
        for transport in transports:
            if transport.kind == "lora":
                preset = getattr(transport, "preset", None) or (
                    self.config.radio.preset if self.config.radio else "LONG_FAST")
                links.append(LinkConfig(transport.link, "lora", preset=preset,
                                        duty_share=self.config.radio_duty_cycle_share))
            else:
                links.append(LinkConfig(transport.link, "ip", rate_bytes_per_s=self.config.mqtt_rate_bytes_per_s))
        engine_config = EngineConfig(links=links, venue=self.config.venue, lat=self.config.lat, lon=self.config.lon,
                                     software_version=VERSION, **self.config.engine)
        rng = random.Random(self.config.seed) if self.config.seed is not None else random.Random()
        return GossipEngine(identity, self.trust, store, rng, engine_config,
                            asyncio.get_running_loop().time() * self.clock_scale)

    def node_info(self) -> dict[str, Any]:
        """Who this node is (the ``node`` part of the status)."""
        assert self.identity is not None
        return {"name": self.config.name, "venue": self.config.venue, "node_id": node_id_of(self.identity),
                "fingerprint": self.identity.public.fingerprint, "version": VERSION, "pid": os.getpid(),
                "hostname": socket.gethostname(), "data_dir": str(self.config.data_dir),
                "http_port": self.http_port, "trusted_curators": len(self.trust),
                "trusted_time": self._trusted_time_source()}

    def _trusted_time_source(self) -> str | None:
        """Which source vouches for the wall clock the engine judges expiry by: gps, ntp or None."""
        clock = self.driver.trusted_clock if self.driver is not None else None
        return clock.source() if clock is not None else None

    def public_status(self) -> StatusDocument:
        """The /api/status document: what every visitor may read (no paths, hosts or pids)."""
        return public_status(self.status())

    def status(self) -> StatusDocument:
        """The operator's status document (``node status``, /api/status/local on loopback)."""
        assert self.store is not None
        engine = self.driver.engine if self.driver else None
        engine_status = engine.status(self.driver.now()) if engine is not None and self.driver else None
        status = build_status(node=self.node_info(), engine_status=engine_status, store=self.store,
                              transports=self.transports, peers=self.driver.peers.records() if self.driver else [],
                              started_at=self.started_at, started_monotonic=self.started_monotonic)
        status["engine"]["errors"] = self.driver.engine_errors if self.driver else 0
        return status

    async def ingest(self, data: bytes) -> bytes:
        """Verify an uploaded bundle and hand it to the engine (or the store when standalone)."""
        assert self.store is not None
        bundle = read_bundle(data, self.trust, at=int(time.time()))
        if self.driver is not None:
            return self.driver.ingest(bundle)
        self.store.ingest_bundle(bundle)
        self.hub.publish(WorkCompleted(bundle.work_id, None))
        return bundle.work_id

    def gallery_context(self) -> GalleryContext:
        """What the gallery gets from the daemon."""
        assert self.store is not None
        assert self.identity is not None
        config = self.config
        position = (config.lat, config.lon) if config.lat is not None and config.lon is not None else None
        curators = self.trust.keys()
        node = NodeSelf(name=config.name, venue=venue_names(()).name(config.venue),
                        fingerprint=self.identity.public.fingerprint, position=position)
        return GalleryContext(
            store=self.store, trust=self.trust, events=self.hub, ingest=self.ingest, node=node,
            peers=self.heard_peers, arrival=self.arrival, venues=lambda: venue_names(self.heard_peers()),
            upload_limit_bytes=config.upload_limit_kb * 1024, gallery_url=config.http_public_url,
            channel_qr_svg=self._kit_qr(), trusted_curators=tuple(map(fingerprint_of, curators)),
        )

    def heard_peers(self) -> list[HeardPeer]:
        """The nodes heard, most recently heard first (none without an engine)."""
        return self.driver.peers.records() if self.driver else []

    def arrival(self, work_id: bytes) -> Arrival | None:
        """How ``work_id`` reached this node in this run, if it did."""
        return self.driver.arrivals.get(work_id) if self.driver else None

    def _kit_qr(self) -> str | None:
        if self.kit is None:
            return None
        try:
            return self.kit.qr_svg.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("kit has no usable channel QR code path=%s error=%s", self.kit.qr_svg, exc)
            return None

    # ---- life cycle -----------------------------------------------------------------------------

    def request_stop(self, reason: str = "requested") -> None:
        """Begin a clean shutdown."""
        if not self.stop_requested.is_set():
            log.info("shutdown requested reason=%s", reason)
            self.stop_requested.set()

    async def run(self) -> None:
        """Run until SIGTERM/SIGINT (or :meth:`request_stop`), then shut down cleanly."""
        config = self.config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.identity = load_or_create_node_key(config.key_file)
        self.trust = load_trust(config.trust)
        self.kit = load_exhibition_kit(config.kit)
        if not len(self.trust):
            log.warning("no trusted curator keys configured ([node] trust): the node cannot verify any work")
        self.store = open_store(config)
        loop = asyncio.get_running_loop()
        installed = []
        for signum in (signal.SIGTERM, signal.SIGINT) if self.handle_signals else ():
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, self.request_stop, signal.Signals(signum).name)
                installed.append(signum)
        try:
            transports = self.build_transports(node_id_of(self.identity))
            self.transports = {t.link: t for t in transports}
            engine = self.build_engine(self.identity, self.store, transports)
            if engine is not None:
                # a sped-up demo's engine seconds are not wall seconds: no trusted time there
                clock = TrustedClock() if self.clock_scale == 1.0 else None
                self.driver = EngineDriver(engine, self.hub, transports, clock_scale=self.clock_scale,
                                           trusted_clock=clock)
            if isinstance(self.store, SqliteStore):
                self.store_watch = StoreWatch(self.store, self.driver)
            self.http = await self._start_http()
            self.http_port = self.http.port
            write_daemon_file(config.data_dir, {
                "pid": os.getpid(), "http_host": config.http_host, "http_port": self.http_port,
                "url": f"http://127.0.0.1:{self.http_port}", "started_at": self.started_at,
                "node_id": node_id_of(self.identity)})
            log.info("node started name=%r node_id=%s http=%s:%d links=%s store=%s data_dir=%s", config.name,
                     node_id_of(self.identity), config.http_host, self.http_port,
                     ",".join(self.transports) or "none", config.store, config.data_dir)
            await self._run_tasks()
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)
            await self._shutdown()

    async def _start_http(self) -> HttpServer:
        app = build_app(self.gallery_context(), status=self.public_status,
                        metrics_text=lambda: metrics_text(self.status()), local_status=self.status)
        try:
            return await start_http(app, self.config.http_host, self.config.http_port)
        except OSError as exc:
            raise ConfigError(f"cannot listen on {self.config.http_host}:{self.config.http_port}: "
                              f"{exc.strerror or exc}") from None

    async def _run_tasks(self) -> None:
        async with asyncio.TaskGroup() as group:
            workers = [group.create_task(t.run(self.driver), name=f"transport-{t.link}")
                       for t in self.transports.values()] if self.driver else []
            if self.store_watch is not None:
                workers.append(group.create_task(self.store_watch.run(), name="store-watch"))
            interval = watchdog_interval()
            if interval:
                workers.append(group.create_task(self._watchdog(interval), name="watchdog"))
            if self.driver is not None:
                self.driver.start()
            sd_notify(f"READY=1\nSTATUS=serving on port {self.http_port}")
            self.ready.set()
            await self.stop_requested.wait()
            sd_notify("STOPPING=1")
            for worker in workers:
                worker.cancel()

    async def _watchdog(self, interval: float) -> None:
        while True:
            sd_notify("WATCHDOG=1")
            await asyncio.sleep(interval)

    async def _shutdown(self) -> None:
        if self.driver is not None:
            self.driver.close()
        for transport in self.transports.values():
            try:
                await asyncio.wait_for(transport.aclose(), 15)
            except Exception as exc:
                log.warning("transport close failed link=%s error=%r", transport.link, exc)
        self.hub.close()
        if self.http is not None:
            await self.http.cleanup()
        if self.store is not None:
            self.store.close()
            log.info("store closed")
        with contextlib.suppress(OSError):
            (self.config.data_dir / DAEMON_FILE).unlink()
        log.info("node stopped")
