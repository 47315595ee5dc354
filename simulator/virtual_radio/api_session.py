"""The TCP side of a virtual radio: one client connection speaking the stream API.

Reads ``ToRadio`` frames (skipping wake-up bytes and garbage), answers ``want_config_id``
with the handshake, passes packets and heartbeats to the radio, and writes ``FromRadio``
frames back. A radio serves one client at a time; a new connection closes the old one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from google.protobuf.message import DecodeError
from meshtastic.protobuf import mesh_pb2

from simulator.virtual_radio.framing import MAX_FRAME_PAYLOAD, FrameDecoder, encode_frame
from simulator.virtual_radio.handshake import handshake_messages
from simulator.virtual_radio.radio import VirtualRadio

log = logging.getLogger(__name__)
READ_SIZE = 4096


class ApiSession:
    """One connected client of one radio."""

    def __init__(self, radio: VirtualRadio, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.radio = radio
        self.reader = reader
        self.writer = writer
        self.configured = False
        self.decoder = FrameDecoder()
        self.closed = False

    def send(self, message: mesh_pb2.FromRadio) -> None:
        """Write one FromRadio frame (dropped if the connection is gone)."""
        if self.closed:
            return
        payload = message.SerializeToString()
        if len(payload) > MAX_FRAME_PAYLOAD:
            log.warning("%s: FromRadio of %d bytes is too large to frame; dropped", self.radio.name, len(payload))
            return
        self.writer.write(encode_frame(payload))

    def close(self) -> None:
        """Drop the connection (a newer client took over, or the radio reboots)."""
        if not self.closed:
            self.closed = True
            self.writer.close()

    async def run(self) -> None:
        """Serve the client until it disconnects."""
        self.radio.attach_client(self)
        try:
            while not self.closed:
                data = await self.reader.read(READ_SIZE)
                if not data:
                    break
                for payload in self.decoder.feed(data):
                    self._handle(payload)
                    if self.closed:
                        break
                await self.writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.radio.detach_client(self)
            self.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await self.writer.wait_closed()

    def _handle(self, payload: bytes) -> None:
        try:
            message = mesh_pb2.ToRadio.FromString(payload)
        except DecodeError:
            log.debug("%s: undecodable ToRadio (%d bytes) skipped", self.radio.name, len(payload))
            return
        variant = message.WhichOneof("payload_variant")
        if variant == "want_config_id":
            self.configured = False
            for reply in handshake_messages(self.radio.state, message.want_config_id, self.radio.device_metrics()):
                self.send(reply)
            self.configured = True
            self.radio.client_configured()
        elif variant == "packet":
            self.radio.handle_client_packet(message.packet)
        elif variant == "heartbeat":
            self.radio.handle_heartbeat()
        elif variant == "disconnect":
            self.close()


async def serve_radio(radio: VirtualRadio, host: str, port: int) -> asyncio.Server:
    """Listen on ``host:port`` for the radio's API clients."""
    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await ApiSession(radio, reader, writer).run()

    return await asyncio.start_server(on_connect, host, port)
