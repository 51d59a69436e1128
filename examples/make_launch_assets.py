"""Make the launch deck's logo and video clip (examples/launch.yaml), here, from numbers.

- examples/assets/logo.png: a rounded square with a play triangle, transparent around it.
- examples/assets/clip.mp4: 4 s of 720p30 H.264, a "product demo" stand-in: cards that
  slide across a moving gradient, with a soft 220 Hz/330 Hz chord, so the clip's own
  sound joins the mix.

Deterministic; nothing is downloaded. Run from anywhere (`make setup` runs it):

    python examples/make_launch_assets.py
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw

ASSETS = Path(__file__).resolve().parent / "assets"
WIDTH, HEIGHT, FPS, SECONDS = 1280, 720, 30, 4.0
RATE = 48_000


def make_logo(path: Path, size: int = 256) -> None:
    scale = 4  # drawn large and reduced, for smooth edges
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=(255, 181, 71, 255))
    third = big / 3
    draw.polygon([(third * 1.1, third * 0.8), (third * 1.1, third * 2.2), (third * 2.2, big / 2)], fill=(16, 19, 28))
    image.resize((size, size), Image.Resampling.LANCZOS).save(path)


def _frame(index: int) -> np.ndarray:
    """One RGB frame: a drifting gradient and three cards sliding in from the right."""
    t = index / FPS
    x = np.linspace(0, 1, WIDTH)[None, :]
    y = np.linspace(0, 1, HEIGHT)[:, None]
    phase = 0.5 + 0.5 * np.sin(2 * math.pi * (x + y + t / SECONDS))
    rgb = np.empty((HEIGHT, WIDTH, 3), np.uint8)
    rgb[..., 0] = (30 + 60 * phase).astype(np.uint8)
    rgb[..., 1] = (20 + 30 * phase).astype(np.uint8)
    rgb[..., 2] = (70 + 90 * phase).astype(np.uint8)
    for card in range(3):
        arrive = 0.4 + card * 0.6  # seconds
        progress = min(1.0, max(0.0, (t - arrive) / 0.8))
        ease = 1 - (1 - progress) ** 3
        left = int(WIDTH + (120 + card * 380 - WIDTH) * ease)
        top = 220 + (card % 2) * 60
        right, bottom = min(WIDTH, left + 320), top + 260
        if left < WIDTH:
            rgb[top:bottom, left:right] = (245, 245, 250)
            rgb[top + 24 : top + 64, left + 24 : min(right, left + 200)] = (255, 181, 71)
    return rgb


def make_clip(path: Path) -> None:
    frames = round(SECONDS * FPS)
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.codec_context.options = {"crf": "20", "preset": "veryfast"}
        audio = container.add_stream("aac", rate=RATE)
        audio.layout = "stereo"
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(_frame(index), format="rgb24")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        samples = np.arange(round(SECONDS * RATE)) / RATE
        chord = 0.12 * (np.sin(2 * math.pi * 220 * samples) + np.sin(2 * math.pi * 330 * samples))
        fade = np.minimum(1.0, np.minimum(samples, SECONDS - samples) / 0.3)
        wave = np.stack([chord * fade, chord * fade]).astype(np.float32)
        for start in range(0, wave.shape[1], 1024):
            block = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(wave[:, start : start + 1024]), format="fltp", layout="stereo"
            )
            block.sample_rate, block.pts, block.time_base = RATE, start, Fraction(1, RATE)
            container.mux(audio.encode(block))
        container.mux(audio.encode(None))


def main() -> None:
    ASSETS.mkdir(parents=True, exist_ok=True)
    make_logo(ASSETS / "logo.png")
    make_clip(ASSETS / "clip.mp4")
    print(f"{ASSETS / 'logo.png'}: 256 px; {ASSETS / 'clip.mp4'}: {SECONDS:g} s of {WIDTH}x{HEIGHT}@{FPS} with sound")


if __name__ == "__main__":
    main()
