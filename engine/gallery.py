"""`reel gallery`: every built-in transition, as a video and as a contact sheet.

The gallery deck alternates two looks of slide, each titled with the name of the
transition that brings it in, so the video plays the whole library in order. The
contact sheet tiles each transition's middle frame with its name under it.
"""

from __future__ import annotations

import math
from typing import Any

from PIL import Image, ImageDraw

from .pipeline import render_still
from .platforms import Output
from .spec import Deck, TitleSlide, load_deck
from .text.typeface import load_font, resolve_fonts
from .timeline import Transition, build_timeline
from .transitions import BUILTIN

__all__ = ["contact_sheet", "gallery_deck"]

_LOOKS = (
    {"background": {"gradient": {"from": "#203a70", "to": "#0c1630", "direction": "diagonal"}}},
    {"background": {"gradient": {"from": "#f3c96b", "to": "#e0734f", "direction": "vertical"}}},
)
_SLIDE_SECONDS = 2.5
_TRANSITION_SECONDS = 1.0


def gallery_deck(names: list[str] | None = None) -> Deck:
    """A deck that shows each transition in `names` (default: every built-in) once."""
    names = list(names or BUILTIN)
    slides: list[dict[str, Any]] = [
        {"kind": "title", "title": "Reel transitions", "subtitle": f"{len(names)} built-ins", **_LOOKS[1]}
    ]
    for index, name in enumerate(names):
        slides.append(
            {
                "kind": "title",
                "title": name,
                "subtitle": BUILTIN[name].description,
                "duration": _SLIDE_SECONDS,
                # A cut has no length; the others get a second to be seen.
                "transition": {"name": name, "duration": 0.0 if name == "cut" else _TRANSITION_SECONDS},
                **_LOOKS[index % 2],
            }
        )
    return load_deck({"title": "Reel transitions", "defaults": {"slide_duration": _SLIDE_SECONDS}, "slides": slides})


def contact_sheet(
    deck: Deck, output: Output, columns: int = 4, tile_width: int = 240, compositor: str = "auto"
) -> Image.Image:
    """Each transition's middle frame, scaled to `tile_width`, labelled, in a grid."""
    timeline = build_timeline(deck.timings(), output.fps)
    transitions = [s for s in timeline if isinstance(s, Transition)]
    # 40 % of the way: at 50 % a fade through black is all black.
    moments = {s.to_slide: (s.start + 0.4 * s.frames) / output.fps for s in transitions}
    for index in range(1, len(deck.slides)):
        # A cut has no frames of its own: show the first frame after it.
        moments.setdefault(index, (timeline.frame_at(timeline.slide_starts[index]) + 1) / output.fps)
    tile_height = round(tile_width * output.height / output.width)
    label_height = max(14, tile_width // 12)
    rows = math.ceil((len(deck.slides) - 1) / columns)
    sheet = Image.new("RGB", (columns * tile_width, rows * (tile_height + label_height)), (16, 18, 24))
    font = load_font(resolve_fonts(deck.theme).regular, label_height - 4)
    draw = ImageDraw.Draw(sheet)
    for position, slide in enumerate(range(1, len(deck.slides))):
        frame = render_still(deck, output, moments[slide], compositor=compositor)
        with Image.fromarray(frame) as image, image.resize((tile_width, tile_height), Image.Resampling.LANCZOS) as tile:
            x = (position % columns) * tile_width
            y = (position // columns) * (tile_height + label_height)
            sheet.paste(tile, (x, y))
        shown = deck.slides[slide]
        name = shown.title if isinstance(shown, TitleSlide) else f"slides[{slide}]"
        draw.text(
            (x + tile_width // 2, y + tile_height + label_height // 2),
            name,
            fill=(230, 232, 238),
            font=font,
            anchor="mm",
        )
    return sheet
