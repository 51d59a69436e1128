"""Draw the example deck's image, examples/assets/plate.png: a balanced plate, from above.

Deterministic (a fixed seed for the scattered grains and leaves), drawn with Pillow
shapes at 2× and reduced with Lanczos for smooth edges. The background is transparent
so the plate sits on whatever slide background the deck uses. Run from anywhere:

    python examples/make_assets.py
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIZE = 560  # final pixels, square
SS = 2  # supersampling factor
SEED = 20240607
OUT = Path(__file__).resolve().parent / "assets" / "plate.png"


def _leaf(
    draw: ImageDraw.ImageDraw, cx: float, cy: float, length: float, width: float, angle: float, fill, vein
) -> None:
    """A pointed leaf: two arcs meeting at the tips, with a midrib."""
    pts = []
    for i in range(25):
        t = i / 24
        x = (t - 0.5) * length
        y = math.sin(math.pi * t) ** 0.8 * width / 2
        pts.append((x, y))
    pts += [(x, -y) for x, y in reversed(pts)]
    ca, sa = math.cos(angle), math.sin(angle)
    poly = [(cx + x * ca - y * sa, cy + x * sa + y * ca) for x, y in pts]
    draw.polygon(poly, fill=fill)
    tip1 = (cx - 0.45 * length * ca, cy - 0.45 * length * sa)
    tip2 = (cx + 0.45 * length * ca, cy + 0.45 * length * sa)
    draw.line([tip1, tip2], fill=vein, width=max(1, round(width * 0.07)))


def draw_plate() -> Image.Image:
    rng = np.random.default_rng(SEED)
    n = SIZE * SS
    c = n / 2
    im = Image.new("RGBA", (n, n), (0, 0, 0, 0))

    # Soft shadow, offset down and right.
    shadow = Image.new("L", (n, n), 0)
    r_plate = n * 0.44
    ImageDraw.Draw(shadow).ellipse(
        (c - r_plate + n * 0.02, c - r_plate + n * 0.035, c + r_plate + n * 0.02, c + r_plate + n * 0.035), fill=110
    )
    shadow = shadow.filter(ImageFilter.GaussianBlur(n * 0.02))
    im.paste((10, 20, 30, 255), (0, 0), shadow)

    d = ImageDraw.Draw(im)
    # Plate: rim, then the well.
    d.ellipse((c - r_plate, c - r_plate, c + r_plate, c + r_plate), fill=(246, 243, 236, 255))
    r_well = r_plate * 0.78
    d.ellipse((c - r_well - 4, c - r_well - 4, c + r_well + 4, c + r_well + 4), fill=(226, 221, 210, 255))
    d.ellipse((c - r_well, c - r_well, c + r_well, c + r_well), fill=(252, 250, 245, 255))

    # Greens: the left half of the well, leaves over a darker bed.
    greens = [(88, 160, 72), (60, 130, 58), (120, 180, 80), (45, 110, 60), (150, 196, 96)]
    gx, gy = c - r_well * 0.4, c + r_well * 0.02
    bed = [
        (
            gx + r_well * (0.4 + 0.05 * math.sin(5 * t)) * math.cos(t),
            gy + r_well * (0.62 + 0.05 * math.sin(7 * t)) * math.sin(t),
        )
        for t in np.linspace(0, 2 * math.pi, 60, endpoint=False)
    ]
    d.polygon(bed, fill=(38, 92, 48))
    for _ in range(150):
        t = rng.uniform(0, 2 * math.pi)
        rad = math.sqrt(rng.uniform(0, 1))
        x, y = gx + 0.4 * r_well * rad * math.cos(t), gy + 0.62 * r_well * rad * math.sin(t)
        col = greens[int(rng.integers(len(greens)))]
        vein = tuple(min(255, v + 50) for v in col)
        length, width = rng.uniform(0.17, 0.27) * r_well, rng.uniform(0.08, 0.13) * r_well
        _leaf(d, x, y, length, width, rng.uniform(0, math.pi), col, vein)
    # Cherry tomatoes among the greens, halved ones showing their seeds.
    for dx, dy, halved in [(-0.12, -0.32, False), (0.1, 0.28, True), (-0.22, 0.12, False), (0.05, -0.05, True)]:
        x, y, r = gx + r_well * dx, gy + r_well * dy, r_well * 0.1
        d.ellipse((x - r, y - r, x + r, y + r), fill=(206, 46, 40))
        if halved:
            d.ellipse((x - r * 0.78, y - r * 0.78, x + r * 0.78, y + r * 0.78), fill=(236, 92, 72))
            for a in range(0, 360, 120):
                t = math.radians(a + 30)
                sx, sy = x + r * 0.42 * math.cos(t), y + r * 0.42 * math.sin(t)
                d.ellipse((sx - r * 0.2, sy - r * 0.2, sx + r * 0.2, sy + r * 0.2), fill=(250, 206, 120))
        else:
            d.ellipse((x - r * 0.55, y - r * 0.6, x - r * 0.1, y - r * 0.2), fill=(240, 120, 105))
            d.ellipse((x - r * 0.18, y - r * 1.02, x + r * 0.18, y - r * 0.75), fill=(70, 120, 50))

    # Grains: a mound in the lower right, over a bed of the same colour.
    mx, my = c + r_well * 0.42, c + r_well * 0.4
    d.ellipse((mx - r_well * 0.3, my - r_well * 0.27, mx + r_well * 0.3, my + r_well * 0.27), fill=(214, 192, 150))
    shades = [(238, 224, 192), (224, 206, 168), (204, 178, 136), (246, 236, 212)]
    for _ in range(650):
        t = rng.uniform(0, 2 * math.pi)
        rad = abs(rng.normal(0, 0.5)) ** 0.9
        if rad > 1:
            continue
        x, y = mx + r_well * 0.33 * rad * math.cos(t), my + r_well * 0.3 * rad * math.sin(t)
        a = rng.uniform(0, math.pi)
        gl, gw = r_well * 0.05, r_well * 0.022
        ca, sa = math.cos(a), math.sin(a)
        pts = [
            (x + gl * math.cos(u) * ca - gw * math.sin(u) * sa, y + gl * math.cos(u) * sa + gw * math.sin(u) * ca)
            for u in np.linspace(0, 2 * math.pi, 10, endpoint=False)
        ]
        d.polygon(pts, fill=shades[int(rng.integers(len(shades)))])

    # Salmon fillet, upper right: a tapered slab with pale fat lines, drawn flat then turned.
    fw, fh = r_well * 0.36, r_well * 0.2
    pw, ph = int(fw * 2.3), int(fh * 2.6)
    px0, py0 = pw / 2, ph / 2
    shape = Image.new("L", (pw, ph), 0)
    outline = []
    for t in np.linspace(0, 2 * math.pi, 120, endpoint=False):
        ct, st = math.cos(t), math.sin(t)
        x = fw * math.copysign(abs(ct) ** (2 / 2.8), ct)
        y = fh * math.copysign(abs(st) ** (2 / 2.8), st) * (1 - 0.22 * x / fw)
        outline.append((px0 + x, py0 + y))
    ImageDraw.Draw(shape).polygon(outline, fill=255)
    stripes = Image.new("L", (pw, ph), 0)
    sd = ImageDraw.Draw(stripes)
    for k in range(-4, 5):
        x0 = px0 + k * fw * 0.24
        line = [(x0 + fw * 0.12 * math.sin(math.pi * u), py0 - fh * 1.3 + u * fh * 2.6) for u in np.linspace(0, 1, 20)]
        sd.line(line, fill=255, width=max(2, round(n * 0.005)))
    fat = (np.asarray(stripes, dtype=np.uint16) * np.asarray(shape) // 255).astype(np.uint8)
    patch = Image.new("RGBA", (pw, ph), (238, 126, 88, 0))
    patch.putalpha(shape)
    with Image.fromarray(fat) as fat_mask:
        patch.paste((252, 188, 156, 255), (0, 0), fat_mask)
    pd = ImageDraw.Draw(patch)
    for _ in range(45):
        x, y = px0 + rng.normal(0, fw * 0.32), py0 + rng.normal(0, fh * 0.3)
        r = n * 0.0035
        pd.ellipse((x - r, y - r, x + r, y + r), fill=(58, 98, 40, 255))
    patch = patch.rotate(28, resample=Image.Resampling.BICUBIC, expand=True)
    fx, fy = c + r_well * 0.36, c - r_well * 0.4
    im.alpha_composite(patch, (int(fx - patch.width / 2), int(fy - patch.height / 2)))
    d = ImageDraw.Draw(im)

    # A lemon wedge beside the fish.
    lx, ly, lr = c + r_well * 0.78, c - r_well * 0.02, r_well * 0.15
    d.pieslice((lx - lr, ly - lr, lx + lr, ly + lr), 110, 290, fill=(246, 206, 60))
    d.pieslice((lx - lr * 0.84, ly - lr * 0.84, lx + lr * 0.84, ly + lr * 0.84), 110, 290, fill=(255, 236, 140))
    for a in range(125, 290, 33):
        t = math.radians(a)
        d.line([(lx, ly), (lx + lr * 0.8 * math.cos(t), ly + lr * 0.8 * math.sin(t))], fill=(246, 206, 60), width=4)

    return im.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with draw_plate() as im:
        im.save(OUT, optimize=True)
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
