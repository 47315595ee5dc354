"""MQTT transport (aiomqtt) against the project's own broker, for venues with internet.

Topic scheme, one tree per exhibition (``<root>`` defaults to ``meshart``)::

    <root>/<exhibition>/v1/frame/<node-id>               every other frame the node sends (QoS 0)
    <root>/<exhibition>/v1/inventory/<node-id>/<page>    retained: the latest advert page <page>,
                                                         so a node that connects late hears the
                                                         whole inventory at once
    <root>/<exhibition>/v1/beacon/<node-id>              retained: the latest status beacon
    <root>/<exhibition>/v1/online/<node-id>              retained "1" while connected, "0" (will)

Which frames are retained is read from the frame's first byte (``version << 4 | kind``,
node/protocol/frames.py): adverts by page, status beacons; these go only to their retained
topic, which live subscribers receive too. A retained slot that is no longer
used (the inventory shrank to fewer pages) is cleared with an empty retained message.

Payloads are raw protocol frames (at most 231 bytes, the same as on the radio). A node ignores
its own topics. Transport-level garbage (oversize, empty, foreign topic) is dropped and counted
here; frames that parse badly are counted by the engine. Two hard caps protect the radio side:
outgoing frames and bytes per second, and incoming frames per second (excess dropped as
``rate-limit``). The connection is re-established with exponential backoff, forever; frames
stay queued in the engine while the broker is away.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass

import aiomqtt

from node.protocol import frames
from node.protocol.events import RxInfo
from node.transport.base import MAX_FRAME_BYTES, Backoff, LinkHost, Transport
from node.transport.ratecap import TokenBucket

log = logging.getLogger("node.transport.mqtt")

NODE_ID_RE = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


@dataclass(frozen=True)
class MqttSettings:
    """Broker and policy options (``[mqtt]`` in node.toml)."""

    host: str
    exhibition: str
    port: int = 1883
    root: str = "meshart"
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    keepalive: int = 30
    max_frames_per_s: float = 20.0
    max_bytes_per_s: float = 4096.0
    max_inbound_frames_per_s: float = 50.0
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0


class TopicScheme:
    """Builds and parses the topics of one exhibition."""

    def __init__(self, root: str, exhibition: str) -> None:
        for label, part in (("root", root), ("exhibition", exhibition)):
            if not part or any(c in part for c in "/+#"):
                raise ValueError(f"MQTT {label} {part!r} must be non-empty and contain no '/', '+' or '#'")
        self.base = f"{root}/{exhibition}/v1"

    def frame(self, node_id: str) -> str:
        """Topic of ``node_id``'s frames."""
        return f"{self.base}/frame/{node_id}"

    def retained(self, node_id: str, slot: str) -> str:
        """Retained topic ``slot`` (``inventory/<page>`` or ``beacon``) of ``node_id``."""
        kind, _, page = slot.partition("/")
        return f"{self.base}/{kind}/{node_id}" + (f"/{page}" if page else "")

    def online(self, node_id: str) -> str:
        """Retained presence topic of ``node_id``."""
        return f"{self.base}/online/{node_id}"

    def subscriptions(self) -> list[str]:
        """Filters a node subscribes to."""
        return [f"{self.base}/frame/+", f"{self.base}/inventory/+/+", f"{self.base}/beacon/+"]

    def sender_of(self, topic: str) -> tuple[str, str] | None:
        """``(kind, node_id)`` of a frame, inventory or beacon topic; None if it is not one of ours."""
        prefix = self.base + "/"
        if not topic.startswith(prefix):
            return None
        parts = topic[len(prefix):].split("/")
        expected = {"frame": 2, "beacon": 2, "inventory": 3}
        if expected.get(parts[0]) != len(parts) or not NODE_ID_RE.match(parts[1]):
            return None
        if parts[0] == "inventory" and not parts[2].isdigit():
            return None
        return parts[0], parts[1]


def retained_slot(frame: bytes) -> str | None:
    """Where a frame is kept retained: ``inventory/<page>`` for adverts, ``beacon`` for status."""
    if not frame or frame[0] >> 4 != frames.VERSION:
        return None
    kind = frame[0] & 0x0F
    if kind == frames.KIND_ADVERT and len(frame) > 5:
        return f"inventory/{frame[5]}"  # byte 5: page number (after kind byte and 4-byte digest)
    if kind == frames.KIND_STATUS:
        return "beacon"
    return None


def _tls_context(settings: MqttSettings) -> ssl.SSLContext | None:
    if not settings.tls:
        return None
    context = ssl.create_default_context(cafile=settings.ca_file)
    if settings.cert_file:
        context.load_cert_chain(settings.cert_file, settings.key_file)
    return context


class MqttTransport(Transport):
    """The engine's ``ip`` link over an MQTT broker."""

    kind = "ip"

    def __init__(
        self,
        link: str,
        settings: MqttSettings,
        node_id: str,
        retain: Callable[[bytes], str | None] = retained_slot,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(link)
        if not NODE_ID_RE.match(node_id):
            raise ValueError(f"MQTT node id {node_id!r} may only hold letters, digits, '_' and '-'")
        self.settings = settings
        self.node_id = node_id
        self.topics = TopicScheme(settings.root, settings.exhibition)
        self._retain = retain
        self._retained_slots: set[str] = set()
        self._clock = clock or (lambda: asyncio.get_running_loop().time())
        now = self._clock()
        self._out_frames = TokenBucket(settings.max_frames_per_s, max(1.0, settings.max_frames_per_s), now)
        self._out_bytes = TokenBucket(settings.max_bytes_per_s, max(float(MAX_FRAME_BYTES), settings.max_bytes_per_s),
                                      now)
        self._in_frames = TokenBucket(settings.max_inbound_frames_per_s,
                                      max(1.0, settings.max_inbound_frames_per_s), now)
        self._backoff = Backoff(settings.backoff_initial_s, settings.backoff_max_s)
        self.state.details["broker"] = f"{settings.host}:{settings.port}"

    def _client(self) -> aiomqtt.Client:
        s = self.settings
        will = aiomqtt.Will(self.topics.online(self.node_id), b"0", qos=1, retain=True)
        return aiomqtt.Client(
            s.host, s.port, username=s.username, password=s.password,
            identifier=f"meshart-{self.node_id}", will=will, keepalive=s.keepalive,
            tls_context=_tls_context(s), timeout=10,
        )

    async def run(self, host: LinkHost) -> None:
        """Connect, subscribe, receive and send; on any broker failure wait and reconnect."""
        first = True
        while True:
            try:
                async with self._client() as client:
                    await client.publish(self.topics.online(self.node_id), b"1", qos=1, retain=True)
                    for topic in self.topics.subscriptions():
                        await client.subscribe(topic)
                    self.state.connected = True  # only now: connected means subscribed too
                    if not first:
                        self.state.reconnects += 1
                    first = False
                    self._backoff.reset()
                    log.info("mqtt connected link=%s broker=%s:%d", self.link, self.settings.host, self.settings.port)
                    async with asyncio.TaskGroup() as group:
                        group.create_task(self._receive_loop(client, host))
                        group.create_task(self._send_loop(client, host))
            except* (aiomqtt.MqttError, OSError) as group_error:
                self.state.last_error = str(group_error.exceptions[0]) or type(group_error.exceptions[0]).__name__
            if self.state.connected:
                log.warning("mqtt disconnected link=%s error=%r", self.link, self.state.last_error)
            self.state.connected = False
            delay = self._backoff.next_delay()
            log.info("mqtt reconnect link=%s in_s=%.1f last_error=%r", self.link, delay, self.state.last_error)
            await asyncio.sleep(delay)

    def accept(self, topic: str, payload: object) -> tuple[bytes, str] | None:
        """Check one received message; the frame and its sender, or None (dropped, counted)."""
        parsed = self.topics.sender_of(topic)
        if parsed is None:
            self.drop("bad-topic")
            return None
        kind, sender = parsed
        if sender == self.node_id:
            return None  # our own message echoed by the broker
        if kind != "frame" and not payload:
            return None  # a cleared retained slot
        if not isinstance(payload, bytes | bytearray) or not payload:
            self.drop("empty")
            return None
        if len(payload) > MAX_FRAME_BYTES:
            self.drop("oversize")
            return None
        if not self._in_frames.try_take(self._clock()):
            self.drop("rate-limit")
            return None
        return bytes(payload), sender

    async def _receive_loop(self, client: aiomqtt.Client, host: LinkHost) -> None:
        async for message in client.messages:
            accepted = self.accept(str(message.topic), message.payload)
            if accepted is None:
                continue
            data, sender = accepted
            self.count_in(data)
            host.deliver(self.link, data, RxInfo(sender=sender))

    async def _send_loop(self, client: aiomqtt.Client, host: LinkHost) -> None:
        while True:
            # Respect the hard cap before asking the engine, so frames stay queued there.
            now = self._clock()
            wait = max(self._out_frames.delay_for(now), self._out_bytes.delay_for(now, MAX_FRAME_BYTES))
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            frame = host.poll(self.link)
            if frame is None:
                await self.wait_for_wake()
                continue
            if len(frame) > MAX_FRAME_BYTES:
                self.drop("oversize-out")
                continue
            now = self._clock()
            self._out_frames.try_take(now)
            self._out_bytes.try_take(now, len(frame))
            slot = self._retain(frame)
            if slot is None:
                await client.publish(self.topics.frame(self.node_id), frame, qos=0)
            else:
                await self._publish_retained(client, slot, frame)
            self.count_out(frame)

    async def _publish_retained(self, client: aiomqtt.Client, slot: str, frame: bytes) -> None:
        await client.publish(self.topics.retained(self.node_id, slot), frame, qos=1, retain=True)
        self._retained_slots.add(slot)
        if slot.startswith("inventory/") and len(frame) > 6:
            pages = frame[6]  # byte 6: page count
            for stale in [s for s in self._retained_slots if s.startswith("inventory/") and int(s[10:]) >= pages]:
                await client.publish(self.topics.retained(self.node_id, stale), b"", qos=1, retain=True)
                self._retained_slots.discard(stale)
