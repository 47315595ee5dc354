"""The Meshtastic stream framing: ``0x94 0xC3``, a big-endian 2-byte length, a protobuf.

The same framing runs over serial and TCP (reference/meshtastic.md §3). Bytes outside frames
(the client's 32 × ``0xC3`` wake-up, line noise) are skipped until the next start marker; a
length above 512 means a corrupt header, so the decoder resyncs one byte further on.
"""

from __future__ import annotations

START1 = 0x94
START2 = 0xC3
HEADER_LEN = 4
MAX_FRAME_PAYLOAD = 512


def encode_frame(payload: bytes) -> bytes:
    """Wrap one serialized protobuf in a stream frame."""
    if len(payload) > MAX_FRAME_PAYLOAD:
        raise ValueError(f"frame payload {len(payload)} bytes exceeds {MAX_FRAME_PAYLOAD}")
    return bytes((START1, START2, len(payload) >> 8, len(payload) & 0xFF)) + payload


class FrameDecoder:
    """Incremental decoder: feed it bytes as they arrive, get whole frame payloads back."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.skipped_bytes = 0

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the payloads of every frame now complete."""
        self._buffer += data
        frames: list[bytes] = []
        while True:
            start = self._find_start()
            if start < 0:
                return frames
            if len(self._buffer) < HEADER_LEN:
                return frames
            length = (self._buffer[2] << 8) | self._buffer[3]
            if length > MAX_FRAME_PAYLOAD:
                # Corrupt header: drop the marker and look for the next one.
                del self._buffer[:1]
                self.skipped_bytes += 1
                continue
            if len(self._buffer) < HEADER_LEN + length:
                return frames
            frames.append(bytes(self._buffer[HEADER_LEN:HEADER_LEN + length]))
            del self._buffer[:HEADER_LEN + length]

    def _find_start(self) -> int:
        """Discard bytes before the first ``0x94 0xC3`` marker; -1 if none is complete yet."""
        while self._buffer:
            index = self._buffer.find(START1)
            if index < 0:
                self.skipped_bytes += len(self._buffer)
                self._buffer.clear()
                return -1
            if index:
                self.skipped_bytes += index
                del self._buffer[:index]
            if len(self._buffer) < 2:
                return -1
            if self._buffer[1] == START2:
                return 0
            del self._buffer[:1]
            self.skipped_bytes += 1
        return -1
