"""Draw the bundled luma mattes (shaders/mattes/*.png) for the lumawipe transition.

Run once; the PNGs are committed. A matte is greyscale: where it is dark the next slide
shows first. Deterministic (fixed seeds), so running it again gives the same files.
"""

from pathlib import Path

import numpy as np
from PIL import Image

OUT = Path(__file__).resolve().parent.parent / "shaders" / "mattes"
SIZE = 256


def value_noise(size: int, cells: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth noise in 0..1: a random lattice of `cells`² values, bicubically enlarged."""
    lattice = rng.random((cells + 1, cells + 1)).astype(np.float32)
    image = Image.fromarray(lattice, "F").resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(image)


def clouds() -> np.ndarray:
    rng = np.random.default_rng(7)
    noise = sum(value_noise(SIZE, cells, rng) / weight for cells, weight in ((3, 1), (6, 2), (12, 4), (24, 8)))
    noise = (noise - noise.min()) / (noise.max() - noise.min())
    sweep = np.linspace(0.0, 1.0, SIZE, dtype=np.float32)[None, :]  # left first, overall
    return 0.55 * noise + 0.45 * sweep


def radial() -> np.ndarray:
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / (SIZE - 1) - 0.5
    angle = np.arctan2(y, x)
    rays = 0.5 + 0.5 * np.sin(angle * 7)
    return 0.7 * np.hypot(x, y) / np.hypot(0.5, 0.5) + 0.3 * rays


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, draw in (("clouds", clouds), ("radial", radial)):
        values = draw()
        values = (values - values.min()) / (values.max() - values.min())
        Image.fromarray(np.round(values * 255).astype(np.uint8), "L").save(OUT / f"{name}.png", optimize=True)
        print(OUT / f"{name}.png")


if __name__ == "__main__":
    main()
