"""Tiny generated media, so the demo can really play and show what the records link to.

Every audio URL (whatever its extension: .mp3, .wav, .flac or none) serves a short WAV
tune; every image URL a small PNG. The variant (pitch, colour) follows from the file name,
so one job always looks and sounds the same. Built with the standard library once, cached.
"""

import io
import math
import struct
import wave
import zlib
from functools import cache
from urllib.parse import quote

from .protocol import Reply

VARIANTS = 8
_RATE = 8000
_NOTES = (261.63, 293.66, 329.63, 392.00, 440.00, 523.25, 587.33, 659.25)  # C major pentatonic-ish
_PALETTE = (
    (0xE4, 0x57, 0x2E), (0x29, 0x33, 0x5C), (0xF3, 0xA7, 0x12), (0x66, 0x9B, 0xBC),
    (0x2A, 0x9D, 0x8F), (0x8E, 0x44, 0xAD), (0xD6, 0x28, 0x28), (0x3A, 0x86, 0xFF),
)  # fmt: skip


def variant(name: str) -> int:
    return zlib.crc32(name.encode()) % VARIANTS


def audio_url(base_url: str, name: str, ext: str = "wav") -> str:
    return f"{base_url}/_sim/media/audio/{quote(name)}.{ext}"


def image_url(base_url: str, name: str) -> str:
    return f"{base_url}/_sim/media/image/{quote(name)}.png"


@cache
def wav(index: int) -> bytes:
    """1.2 s of a three-note arpeggio, 8 kHz mono 16-bit (≈19 KB), faded in and out."""
    root = _NOTES[index % VARIANTS]
    notes = (root, root * 1.25, root * 1.5)
    per_note = int(_RATE * 0.4)
    frames = bytearray()
    for n, freq in enumerate(notes):
        for i in range(per_note):
            t = (n * per_note + i) / _RATE
            envelope = min(1.0, i / 200, (per_note - i) / 400)  # no clicks between notes
            frames += struct.pack("<h", int(9000 * envelope * math.sin(2 * math.pi * freq * t)))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(_RATE)
        w.writeframes(bytes(frames))
    return out.getvalue()


@cache
def png(index: int, size: int = 64) -> bytes:
    """A sizexsize diagonal gradient from the variant's colour to near-black."""
    r, g, b = _PALETTE[index % VARIANTS]
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter type: none
        for x in range(size):
            k = 1 - (x + y) / (2 * size) * 0.8
            rows += bytes((int(r * k), int(g * k), int(b * k)))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows))) + chunk(b"IEND", b"")
    )


def serve(kind: str, name: str) -> tuple[bytes, str] | None:
    """(body, content type) for /_sim/media/<kind>/<name>, None for an unknown kind."""
    if kind in ("audio", "stream", "upload"):
        return wav(variant(name)), "audio/wav"
    if kind == "image":
        return png(variant(name)), "image/png"
    return None


def sized(body: bytes, content_type: str, size: int) -> Reply:
    """The file's start, then its sound (or bytes) over and over to exactly `size` bytes,
    streamed: a benchmark can ask for gigabytes without the simulator holding them."""
    unit = body * max(1, (1 << 20) // max(len(body), 1))  # about 1 MB per write

    def write(send) -> None:
        left = size
        while left > 0:
            piece = unit[: min(left, len(unit))]
            send(piece)
            left -= len(piece)

    return Reply(body=b"", content_type=content_type, headers={"Content-Length": str(size)}, stream=write)
