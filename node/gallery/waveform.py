"""A picture of an audio work's sound: its waveform, drawn once with numpy and Pillow, then cached.

The gallery draws it when the work completes (the live feed calls :meth:`Waveforms.render`),
or on the first request for a work that was complete before the gallery started. Only PCM WAV
is decoded (the formats ``mesh-art publish`` makes for radio budgets); other audio gets none.
numpy is imported on the first drawing: a node without audio works never pays its 16 MB.
"""

from __future__ import annotations

import io
import wave
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw

from node.gallery.present import base_mime
from node.store.base import WorkStore

if TYPE_CHECKING:
    import numpy as np

WIDTH, HEIGHT = 600, 300
BARS = 120
INK = (10, 101, 96)  # the gallery's teal accent: readable on the light and the dark theme
CACHED = 256
WAV_MIMES = frozenset({"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"})


@dataclass(frozen=True)
class Waveform:
    """A drawn waveform: PNG bytes and the sound's length."""

    png: bytes
    seconds: float


def decode_wav(data: bytes) -> tuple[np.ndarray, int] | None:
    """Mono samples in -1..1 and the sample rate of a PCM WAV file; None when it is not one."""
    import numpy as np
    try:
        with wave.open(io.BytesIO(data)) as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError):
        return None
    if width == 1:
        samples = (np.frombuffer(frames, np.uint8).astype(np.float32) - 128) / 128
    elif width == 2:
        samples = np.frombuffer(frames[: len(frames) // 2 * 2], "<i2").astype(np.float32) / 32768
    else:
        return None
    if channels > 1:
        samples = samples[: len(samples) // channels * channels].reshape(-1, channels).mean(axis=1)
    return (samples, rate) if samples.size and rate > 0 else None


def draw(samples: np.ndarray) -> bytes:
    """Mirrored bars of the peak level in :data:`BARS` equal slices of the sound, as a PNG."""
    import numpy as np
    slices = np.array_split(np.abs(samples), BARS)
    peaks = np.array([float(s.max()) if s.size else 0.0 for s in slices])
    peaks = peaks / max(float(peaks.max()), 1e-6)
    image = Image.new("RGBA", (WIDTH, HEIGHT), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    step = WIDTH / BARS
    middle = HEIGHT / 2
    for index, peak in enumerate(peaks):
        half = max(2.0, peak * (HEIGHT / 2 - 8))
        x = index * step + step * 0.2
        pen.rounded_rectangle((x, middle - half, x + step * 0.6, middle + half), radius=2, fill=INK)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


class Waveforms:
    """Waveforms of audio works, drawn once each and kept (at most :data:`CACHED`)."""

    def __init__(self, store: WorkStore) -> None:
        self._store = store
        self._drawn: OrderedDict[bytes, Waveform | None] = OrderedDict()

    def render(self, work_id: bytes) -> Waveform | None:
        """Draw (or recall) the waveform of a complete WAV work; None for anything else."""
        if work_id in self._drawn:
            self._drawn.move_to_end(work_id)
            return self._drawn[work_id]
        signed = self._store.get_manifest(work_id)
        if signed is None or base_mime(signed.manifest.mime) not in WAV_MIMES:
            return None
        content = self._store.content(work_id)
        if content is None:
            return None  # still arriving: drawn when it completes
        decoded = decode_wav(content)
        found = Waveform(draw(decoded[0]), round(decoded[0].size / decoded[1], 1)) if decoded else None
        self._drawn[work_id] = found
        if len(self._drawn) > CACHED:
            self._drawn.popitem(last=False)
        return found
