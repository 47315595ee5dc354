"""Meshtastic radio transport: the only module that touches the ``meshtastic`` library and pubsub.

The library is thread-based: constructing an interface blocks until the device has sent its
configuration, packets arrive on the process-global pubsub bus from the library's publishing
thread, ``sendData`` may block while the radio's TX queue is full, and ``close()`` can hang
(reference/aesthetics.md §5). So:

* connect, send and close run in daemon threads, send and close with a timeout (a hung
  library thread must never keep the process from exiting, so not the loop's default executor);
* pubsub callbacks only check that the packet is from *our* interface and hop to the loop with
  ``loop.call_soon_threadsafe``; no protocol code ever runs on a foreign thread;
* frames go out as broadcasts on a PRIVATE_APP port (256 by default, 256..511), hop limit 0
  (the engine decides what is forwarded, not the firmware's flooding), no ACK, and at most
  231 bytes: the library's own 233-byte check lets 232/233 through and the firmware then drops
  them as TOO_LARGE (reference/meshtastic.md §1);
* a ``DUTY_CYCLE_LIMIT`` routing NAK for one of our packets is handed back to the engine with
  ``refused`` (back-pressure);
* a lost device (``meshtastic.connection.lost``, send errors) is closed and reopened with
  exponential backoff, forever. Frames stay queued in the engine meanwhile;
* on every (re)connect the radio's configuration goes through the injected radio check (the
  daemon passes firmware_config.safety's rules): a radio that would drop the art traffic is
  reported in the status and logged as an error;
* when the radio's modem preset differs from the one the engine counts airtime at (a preset
  changed with the meshtastic CLI, or node.toml out of date), the host is told with
  ``radio_preset`` and a warning is logged; the radio's device metrics go to ``radio_metrics``.

The interface factory is injectable so the adapter can be tested without a radio.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from node.protocol.events import RxInfo
from node.transport.base import MAX_FRAME_BYTES, Backoff, LinkHost, RadioMetrics, Transport

if TYPE_CHECKING:
    from meshtastic.protobuf import channel_pb2, localonly_pb2

log = logging.getLogger("node.transport.meshtastic")

BROADCAST_NUM = 0xFFFFFFFF
PRIVATE_PORT_MIN = 256
PRIVATE_PORT_MAX = 511
EXPECTED_REGION = "EU_868"
SENT_MEMORY = 64  # recent packet ids kept to match routing NAKs to frames


@dataclass(frozen=True)
class RadioSettings:
    """``[radio]`` in node.toml."""

    device: str  # "serial", "serial:/dev/ttyACM0", "tcp:host[:port]" or "ble:<address or name>"
    port: int = 256
    preset: str = "LONG_FAST"
    connect_timeout_s: float = 60.0
    close_timeout_s: float = 10.0
    send_timeout_s: float = 30.0
    backoff_initial_s: float = 2.0
    backoff_max_s: float = 120.0

    def __post_init__(self) -> None:
        if not PRIVATE_PORT_MIN <= self.port <= PRIVATE_PORT_MAX:
            raise ValueError(f"radio port {self.port} outside the private range 256..511")
        parse_device(self.device)


class RadioProblem(Protocol):
    """One finding of a radio check: a sentence, and whether the radio drops the art traffic."""

    @property
    def text(self) -> str: ...

    @property
    def deafens(self) -> bool: ...


RadioCheck: TypeAlias = (
    "Callable[[localonly_pb2.LocalConfig, channel_pb2.ChannelSettings | None, Sequence[str]], Sequence[RadioProblem]]")
"""Judges a connected radio's config, primary channel and ignored nodes (firmware_config.safety)."""


def parse_device(spec: str) -> tuple[str, str | None, int | None]:
    """``(kind, address, tcp_port)`` of a device spec; raises ValueError with a clear message."""
    kind, _, rest = spec.partition(":")
    if kind == "serial":
        return "serial", rest or None, None
    if kind == "ble":
        return "ble", rest or None, None
    if kind == "tcp":
        if not rest:
            raise ValueError("tcp device needs a host: tcp:HOST[:PORT]")
        if rest.count(":") != 1:
            return "tcp", rest, None  # a bare host (or an IPv6 address without a port)
        host, _, port_text = rest.partition(":")
        if not port_text.isdigit() or not host:
            raise ValueError(f"tcp device {spec!r} must look like tcp:HOST or tcp:HOST:PORT")
        return "tcp", host, int(port_text)
    raise ValueError(f"radio device {spec!r} must start with serial, tcp: or ble:")


def open_interface(settings: RadioSettings) -> Any:
    """Open a real meshtastic interface (blocking: waits for the device's configuration)."""
    kind, address, tcp_port = parse_device(settings.device)
    timeout = int(settings.connect_timeout_s)
    if kind == "tcp":
        from meshtastic.tcp_interface import TCPInterface

        return TCPInterface(address, portNumber=tcp_port or 4403, timeout=timeout)
    if kind == "ble":
        from meshtastic.ble_interface import BLEInterface

        return BLEInterface(address, timeout=timeout)
    from meshtastic.serial_interface import SerialInterface

    return SerialInterface(address, timeout=timeout)


def receive_topic(port: int) -> str:
    """The pubsub topic the library publishes port ``port`` on (enum name when the port has one)."""
    from meshtastic.protobuf import portnums_pb2

    try:
        name = portnums_pb2.PortNum.Name(port)
    except ValueError:
        name = str(port)
    return f"meshtastic.receive.data.{name}"


def radio_lora_settings(iface: Any) -> dict[str, Any]:
    """Region, preset and TX air utilisation as the connected radio reports them."""
    from meshtastic.protobuf import config_pb2

    lora = iface.localNode.localConfig.lora
    lora_cls = config_pb2.Config.LoRaConfig
    info: dict[str, Any] = {
        "region": lora_cls.RegionCode.Name(lora.region),
        "preset": lora_cls.ModemPreset.Name(lora.modem_preset),
        "use_preset": bool(lora.use_preset),
        "hop_limit": int(lora.hop_limit),
    }
    my_info = iface.getMyNodeInfo() or {}
    metrics = my_info.get("deviceMetrics") or {}
    info["channel_utilization"] = _number(metrics.get("channelUtilization"))
    info["air_util_tx"] = _number(metrics.get("airUtilTx"))
    info["node_id"] = (my_info.get("user") or {}).get("id")
    info["gps_time"] = gps_fix_time(my_info.get("position") or {})
    return info


def gps_fix_time(position: dict[str, Any]) -> float | None:
    """Unix time of the radio's own GPS fix, or None when its position did not come from its receiver.

    Only ``LOC_INTERNAL`` counts: the firmware sets it in ``GPS::lookForLocation`` for a fix from the
    radio's own GPS, while a fixed position is ``LOC_MANUAL`` (``NodeDB``) and time learnt from other
    nodes' packets (``RTCQualityFromNet``) is something any transmitter can forge.
    """
    if position.get("locationSource") != "LOC_INTERNAL":
        return None
    fix = _number(position.get("time"))
    return fix if fix is not None and fix > 0 else None


def ignored_node_ids(iface: Any) -> list[str]:
    """Nodes the radio's node DB marks as ignored (``meshtastic --set-ignored-node``)."""
    nodes = getattr(iface, "nodesByNum", None) or {}
    return sorted(str((info.get("user") or {}).get("id") or f"!{num:08x}")
                  for num, info in nodes.items() if isinstance(info, dict) and info.get("isIgnored"))


def preset_name(text: str) -> str:
    """``medium-fast`` -> ``MEDIUM_FAST``, the firmware's spelling."""
    return text.upper().replace("-", "_")


def config_warnings(radio: dict[str, Any], expected_preset: str) -> list[str]:
    """Human-readable warnings when the radio does not match what the node is configured for."""
    warnings = []
    if radio.get("region") != EXPECTED_REGION:
        warnings.append(f"radio region is {radio.get('region')}, expected {EXPECTED_REGION}: "
                        "set it with firmware_config or the meshtastic CLI before the exhibition")
    want = preset_name(expected_preset)
    if radio.get("use_preset", True) and radio.get("preset") != want:
        warnings.append(f"radio preset is {radio.get('preset')} but node.toml says {want}: "
                        "airtime accounting will be wrong")
    if not radio.get("use_preset", True):
        warnings.append("radio uses custom LoRa parameters (use_preset false); airtime accounting assumes "
                        f"{want}")
    return warnings


class MeshtasticTransport(Transport):
    """The engine's ``lora`` link over a Meshtastic radio."""

    kind = "lora"

    def __init__(
        self,
        link: str,
        settings: RadioSettings,
        interface_factory: Callable[[RadioSettings], Any] = open_interface,
        radio_check: RadioCheck | None = None,
    ) -> None:
        super().__init__(link)
        self.settings = settings
        self._factory = interface_factory
        self._radio_check = radio_check
        self._counted_preset = preset_name(settings.preset)  # the preset the engine counts airtime at
        self._metrics = RadioMetrics(None, None)
        self._logged_problems: frozenset[str] = frozenset()
        self._iface: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._host: LinkHost | None = None
        self._lost = asyncio.Event()
        self._sent: OrderedDict[int, bytes] = OrderedDict()
        self._backoff = Backoff(settings.backoff_initial_s, settings.backoff_max_s)
        self.topic = receive_topic(settings.port)
        self.state.details.update({"device": settings.device, "duty_cycle_naks": 0, "radio": {},
                                   "counted_preset": self._counted_preset, "preset_changes": 0})

    # ---- pubsub side (library threads): filter, then hop to the loop -------------------------

    def on_receive(self, packet: Any = None, interface: Any = None) -> None:
        """pubsub listener for our data port (publishing thread)."""
        if interface is None or interface is not self._iface:
            return  # another interface's packet: pubsub is process-global
        self._to_loop(self._handle_packet, packet)

    def on_routing(self, packet: Any = None, interface: Any = None) -> None:
        """pubsub listener for routing packets, where NAKs arrive (publishing thread)."""
        if interface is None or interface is not self._iface:
            return
        self._to_loop(self._handle_routing, packet)

    def on_lost(self, interface: Any = None) -> None:
        """pubsub listener for ``meshtastic.connection.lost``."""
        if interface is None or interface is not self._iface:
            return
        self._to_loop(self._lost.set)

    def _to_loop(self, callback: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed during shutdown
            loop.call_soon_threadsafe(callback, *args)

    # ---- loop side -----------------------------------------------------------------------------

    def _handle_packet(self, packet: Any) -> None:
        if self._host is None:
            return
        decoded = packet.get("decoded") if isinstance(packet, dict) else None
        payload = decoded.get("payload") if isinstance(decoded, dict) else None
        if not isinstance(payload, bytes | bytearray) or not payload:
            self.drop("empty")
            return
        if len(payload) > MAX_FRAME_BYTES:
            self.drop("oversize")
            return
        rx = RxInfo(sender=_sender(packet), snr=_number(packet.get("rxSnr")), rssi=_number(packet.get("rxRssi")))
        self.count_in(bytes(payload))
        self._host.deliver(self.link, bytes(payload), rx)

    def _handle_routing(self, packet: Any) -> None:
        decoded = packet.get("decoded") if isinstance(packet, dict) else None
        if not isinstance(decoded, dict):
            return
        routing = decoded.get("routing")
        reason = routing.get("errorReason", "NONE") if isinstance(routing, dict) else "NONE"
        request_id = decoded.get("requestId")
        frame = self._sent.pop(request_id, None) if isinstance(request_id, int) else None
        if frame is None or not isinstance(reason, str) or reason == "NONE":
            return
        self.drop(f"nak-{reason.lower().replace('_', '-')}")
        if reason == "DUTY_CYCLE_LIMIT":
            self.state.details["duty_cycle_naks"] += 1
            if self._host is not None:
                self._host.refused(self.link, frame)

    async def run(self, host: LinkHost) -> None:
        """Open the radio, pump frames, and reopen it whenever it is lost, forever."""
        from pubsub import pub

        self._loop = asyncio.get_running_loop()
        self._host = host
        pub.subscribe(self.on_receive, self.topic)
        pub.subscribe(self.on_routing, "meshtastic.receive.routing")
        pub.subscribe(self.on_lost, "meshtastic.connection.lost")
        first = True
        try:
            while True:
                if await self._connect():
                    if not first:
                        self.state.reconnects += 1
                    first = False
                    try:
                        await self._pump(host)
                    finally:
                        self.state.connected = False
                        await self._close_interface()
                delay = self._backoff.next_delay()
                log.info("radio reconnect link=%s in_s=%.1f last_error=%r", self.link, delay, self.state.last_error)
                await asyncio.sleep(delay)
        finally:
            _safe_unsubscribe(pub, self.on_receive, self.topic)
            _safe_unsubscribe(pub, self.on_routing, "meshtastic.receive.routing")
            _safe_unsubscribe(pub, self.on_lost, "meshtastic.connection.lost")

    async def _connect(self) -> bool:
        try:
            iface = await asyncio.wait_for(in_daemon_thread(self._factory, self.settings),
                                           self.settings.connect_timeout_s + 5)
        except Exception as exc:  # the library raises many kinds (serial, socket, BLE, its own)
            self.state.last_error = f"connect: {exc or type(exc).__name__}"
            log.warning("radio connect failed link=%s device=%s error=%r", self.link, self.settings.device,
                        self.state.last_error)
            return False
        self._iface = iface
        self._lost.clear()
        self._sent.clear()
        self.state.connected = True
        self._backoff.reset()
        self.refresh_radio_info(report=False)
        radio = self.state.details["radio"]
        log.info("radio connected link=%s device=%s region=%s preset=%s channel_utilization=%s air_util_tx=%s",
                 self.link, self.settings.device, radio.get("region"), radio.get("preset"),
                 radio.get("channel_utilization"), radio.get("air_util_tx"))
        for warning in config_warnings(radio, self.settings.preset):
            log.warning("radio config mismatch link=%s: %s", self.link, warning)
        self._logged_problems = frozenset()  # every (re)connect logs the radio's problems again
        self.check_radio()
        self.report_radio()
        return True

    def refresh_radio_info(self, report: bool = True) -> None:
        """Re-read region, preset and device metrics from the interface (cheap, in-memory)."""
        if self._iface is None:
            return
        problems = {k: v for k, v in self.state.details["radio"].items() if k in ("problems", "drops_art_traffic")}
        try:
            self.state.details["radio"] = {**radio_lora_settings(self._iface), **problems}
        except Exception as exc:  # a half-configured interface lacks fields
            self.state.details["radio"] = {"error": str(exc), **problems}
        if report:
            # The library reconnects by itself (e.g. after `meshtastic --set` from another client),
            # so settings can change under a live interface: check again, log only what is new.
            self.check_radio()
            self.report_radio()

    def check_radio(self) -> None:
        """Run the radio check on the connected radio; problems go to the status, new ones to the log."""
        radio = self.state.details["radio"]
        if self._radio_check is None or self._iface is None:
            return
        try:
            node = self._iface.localNode
            primary = node.channels[0].settings if node.channels else None
            findings = list(self._radio_check(node.localConfig, primary, ignored_node_ids(self._iface)))
        except Exception as exc:  # a half-configured interface lacks fields
            log.warning("radio check failed link=%s error=%r", self.link, exc)
            return
        radio["problems"] = [finding.text for finding in findings]
        radio["drops_art_traffic"] = any(finding.deafens for finding in findings)
        new = [finding for finding in findings if finding.text not in self._logged_problems]
        self._logged_problems = frozenset(finding.text for finding in findings)
        for finding in new:
            if finding.deafens:
                log.error("radio drops the art traffic link=%s: %s", self.link, finding.text)
            else:
                log.warning("radio config problem link=%s: %s", self.link, finding.text)

    def report_radio(self) -> None:
        """Tell the host about a preset the engine does not count at, and new device metrics."""
        radio = self.state.details["radio"]
        preset = radio.get("preset")
        if self._host is None:
            return
        if radio.get("use_preset") and isinstance(preset, str) and preset != self._counted_preset:
            log.warning("radio preset changed link=%s from=%s to=%s: the engine now counts airtime at %s",
                        self.link, self._counted_preset, preset, preset)
            self._counted_preset = preset
            self.state.details["counted_preset"] = preset
            self.state.details["preset_changes"] += 1
            self._host.radio_preset(self.link, preset)
        metrics = RadioMetrics(radio.get("channel_utilization"), radio.get("air_util_tx"), radio.get("gps_time"))
        if metrics != self._metrics:
            self._metrics = metrics
            self._host.radio_metrics(self.link, metrics)

    async def _pump(self, host: LinkHost) -> None:
        """Send what the engine offers until the device is lost."""
        while not self._lost.is_set():
            frame = host.poll(self.link)
            if frame is None:
                await self._wait_wake_or_lost()
                continue
            if len(frame) > MAX_FRAME_BYTES:
                self.drop("oversize-out")
                continue
            try:
                packet = await asyncio.wait_for(in_daemon_thread(
                    self._iface.sendData, frame, destinationId=BROADCAST_NUM, portNum=self.settings.port,
                    wantAck=False, hopLimit=0,
                ), self.settings.send_timeout_s)
            except TimeoutError:
                # The library waits in sendData, forever, for TX-queue space the radio reports in
                # QueueStatus messages; after its own TCP reconnect those may never come. Reopen.
                self.state.last_error = f"send: no answer in {self.settings.send_timeout_s:.0f} s"
                log.warning("radio send hung link=%s; reopening the device", self.link)
                release_stuck_send(self._iface)
                return
            except Exception as exc:  # broken pipe, serial error, library error
                self.state.last_error = f"send: {exc or type(exc).__name__}"
                log.warning("radio send failed link=%s error=%r", self.link, self.state.last_error)
                return
            self.count_out(frame)
            packet_id = getattr(packet, "id", None)
            if isinstance(packet_id, int):
                self._sent[packet_id] = frame
                while len(self._sent) > SENT_MEMORY:
                    self._sent.popitem(last=False)
        self.state.last_error = "device lost"
        log.warning("radio lost link=%s device=%s", self.link, self.settings.device)

    async def _wait_wake_or_lost(self) -> None:
        wake = asyncio.ensure_future(self.wait_for_wake(timeout=30.0))
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait({wake, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            wake.cancel()
            lost.cancel()
        self.refresh_radio_info()

    async def _close_interface(self) -> None:
        iface, self._iface = self._iface, None
        if iface is None:
            return
        try:
            await asyncio.wait_for(in_daemon_thread(iface.close), self.settings.close_timeout_s)
        except TimeoutError:
            log.warning("radio close timed out link=%s after_s=%.0f; abandoning the library thread",
                        self.link, self.settings.close_timeout_s)
        except Exception as exc:
            log.debug("radio close error link=%s error=%r", self.link, exc)

    async def aclose(self) -> None:
        """Close the radio (bounded by ``close_timeout_s``)."""
        await self._close_interface()


def _sender(packet: dict[str, Any]) -> str | None:
    """The sender's node id (``!hex``) from a packet dict; None when it carries none usable."""
    sender = packet.get("fromId")
    if isinstance(sender, str) and sender:
        return sender
    number = packet.get("from")
    if isinstance(number, int) and not isinstance(number, bool) and 0 <= number <= 0xFFFFFFFF:
        return f"!{number:08x}"
    return None


def _number(value: Any) -> float | None:
    """SNR/RSSI as a float, or None for anything that is not a finite number."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float range
        return None
    return number if math.isfinite(number) else None


def release_stuck_send(iface: Any) -> None:
    """Let a library thread stuck waiting for TX-queue space finish (its interface is abandoned).

    ``MeshInterface._sendToRadio`` sleeps while ``queueStatus.free`` is 0; with no status it
    assumes space, writes to the dead connection and returns, so the thread does not leak.
    """
    with contextlib.suppress(Exception):
        iface.queueStatus = None


def in_daemon_thread(function: Callable[..., Any], *args: Any, **kwargs: Any) -> asyncio.Future[Any]:
    """Run a blocking call in a daemon thread; its result or exception lands in a loop future."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.cancelled():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def work() -> None:
        try:
            result, error = function(*args, **kwargs), None
        except BaseException as exc:  # handed to the awaiting coroutine
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop closed during shutdown
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=work, name=f"meshtastic-{getattr(function, '__name__', 'call')}", daemon=True).start()
    return future


def _safe_unsubscribe(pub: Any, listener: Callable[..., None], topic: str) -> None:
    with contextlib.suppress(Exception):  # the topic may never have been created
        pub.unsubscribe(listener, topic)
