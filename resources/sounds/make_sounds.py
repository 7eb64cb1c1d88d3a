"""Writes the check-in result sounds (short 16-bit mono WAV tones): python resources/sounds/make_sounds.py.

Each kind of result has a pattern of its own, so a volunteer who is not looking at the screen still
hears what happened: rising for admitted, two level beeps for already checked in, three quick high
beeps for a note to read, low falling tones for refusals, each refusal with its own rhythm.
"""

from __future__ import annotations

import math
import struct
import sys
import wave
from pathlib import Path

RATE = 22_050
VOLUME = 0.45

# (frequency in Hz or 0 for a pause, milliseconds); "square" patterns buzz, the others are sine tones.
PATTERNS: dict[str, tuple[str, tuple[tuple[float, int], ...]]] = {
    "admitted": ("sine", ((784, 90), (0, 20), (1047, 90), (0, 20), (1319, 160))),
    "already": ("sine", ((660, 140), (0, 90), (660, 140))),
    "attention": ("sine", ((1175, 80), (0, 60), (1175, 80), (0, 60), (1175, 80))),
    "not_paid": ("square", ((440, 150), (0, 50), (330, 250))),
    "refunded": ("square", ((392, 120), (0, 40), (294, 120), (0, 40), (220, 200))),
    "cancelled": ("square", ((349, 300), (0, 60), (262, 120))),
    "void": ("square", ((262, 120), (0, 60), (262, 120), (0, 60), (196, 240))),
    "unknown": ("square", ((220, 420),)),
    "other_conference": ("square", ((523, 110), (0, 40), (247, 320))),
}


def samples(shape: str, pattern: tuple[tuple[float, int], ...]) -> bytes:
    out = bytearray()
    for frequency, ms in pattern:
        count = RATE * ms // 1000
        fade = min(count // 4, RATE * 8 // 1000)   # 8 ms in and out: no clicks
        for i in range(count):
            if frequency <= 0:
                value = 0.0
            else:
                phase = math.sin(2 * math.pi * frequency * i / RATE)
                value = (1.0 if phase >= 0 else -1.0) * 0.5 if shape == "square" else phase
                envelope = min(1.0, i / fade, (count - 1 - i) / fade) if fade else 1.0
                value *= envelope
            out += struct.pack("<h", int(value * VOLUME * 32767))
    return bytes(out)


def write_all(folder: Path) -> list[Path]:
    written = []
    for name, (shape, pattern) in PATTERNS.items():
        path = folder / f"{name}.wav"
        with wave.open(str(path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(RATE)
            wav.writeframes(samples(shape, pattern))
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent):
        print(written_path)
