"""Burned-in captions: each cue set once with the text engine, blended into NV12 frames.

    overlay = CaptionOverlay(cues, theme, output)
    overlay.apply(frame, nv12)       # after the compositor's read_nv12, either backend

A cue is wrapped into at most `theme.captions.max_lines` balanced lines (the text
engine's `balance`, so right-to-left text and every script it sets work), drawn on a
box (or with an outline) and placed inside the platform's safe area, at its bottom (above
TikTok's and Reels' UI) unless the style says top. It is converted to planes once:
luma and alpha per pixel, chroma averaged over each 2×2 block weighted by alpha, and
blended over the box alone (`out = base·(1 − a) + cue·a`); nothing outside the box is
touched. With word timings, the word being said is drawn in the highlight colour: the
cue's lines are fixed by the plain text, and one picture is made per word.
The timeline cuts Holds where the picture changes (`captions.cue_frames`), so a Hold
is still one picture.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageDraw

from .captions import Cue, first_frame_at
from .colour import BT709_RGB_TO_YCBCR, nv12_planes, parse_colour
from .platforms import Output
from .text.block import place
from .text.fit import MIN_PX, FittedText, fit_text
from .text.paint import paint_block
from .text.typeface import FontSet, resolve_fonts
from .theme import CaptionStyle, Theme

__all__ = ["CaptionOverlay", "CaptionPatch"]

_MAX_PATCHES = 4  # pictures kept: the current cue's words come in order


@dataclass(frozen=True)
class CaptionPatch:
    """A cue's picture as NV12 blend terms at even (x, y): out = base·keep + add."""

    x: int
    y: int
    rgba: np.ndarray  # H×W×4 straight alpha, for tests and stills
    y_keep: np.ndarray
    y_add: np.ndarray
    uv_keep: np.ndarray
    uv_add: np.ndarray

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) in the frame, right/bottom exclusive."""
        h, w = self.rgba.shape[:2]
        return self.x, self.y, self.x + w, self.y + h

    def blend(self, buffer: np.ndarray, width: int, height: int) -> None:
        luma, chroma = nv12_planes(buffer, width, height)
        h, w = self.y_keep.shape
        region = luma[self.y : self.y + h, self.x : self.x + w]
        region[...] = region * self.y_keep + self.y_add
        region_uv = chroma[self.y // 2 : (self.y + h) // 2, self.x // 2 : (self.x + w) // 2]
        region_uv[...] = region_uv * self.uv_keep + self.uv_add


def _patch(rgba: np.ndarray, x: int, y: int) -> CaptionPatch:
    m = BT709_RGB_TO_YCBCR.astype(np.float32)
    rgb = rgba[..., :3].astype(np.float32) / 255
    alpha = rgba[..., 3].astype(np.float32) / 255
    luma = 16 + 219 * (rgb @ m[0])
    # Chroma of each 2×2 block: its colours weighted by their alpha, and its mean alpha.
    h, w = alpha.shape
    a4 = alpha.reshape(h // 2, 2, w // 2, 2)
    weight = a4.sum(axis=(1, 3))
    a2 = weight / 4
    chroma = np.empty((h // 2, w // 2, 2), np.float32)
    for k in (1, 2):
        c = (128 + 224 * (rgb @ m[k])).reshape(h // 2, 2, w // 2, 2)
        chroma[..., k - 1] = (c * a4).sum(axis=(1, 3)) / np.maximum(weight, 1e-6)
    return CaptionPatch(
        x,
        y,
        rgba,
        1 - alpha,
        luma * alpha + 0.5,  # + 0.5: the cast to uint8 then rounds
        np.repeat((1 - a2)[..., None], 2, axis=2),
        chroma * a2[..., None] + 0.5,
    )


def _escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("*", "\\*").replace("[", "\\[").replace("]", "\\]")


class CaptionOverlay:
    """The burned-in captions of one output: which cue (and word) each frame shows, and its picture."""

    def __init__(self, cues: list[Cue], theme: Theme, output: Output) -> None:
        self.cues = cues
        self.output = output
        self.style: CaptionStyle = theme.captions
        fonts = resolve_fonts(theme)
        legibility = "outline" if self.style.style == "outline" else "none"
        options = replace(fonts.options, markup=True, accent=self.style.highlight, case="none", legibility=legibility)
        self.fonts: FontSet = replace(fonts, options=options)
        self.spans = [(first_frame_at(c.start, output.fps), first_frame_at(c.end, output.fps)) for c in cues]
        self._patches: dict[tuple[int, int | None], CaptionPatch] = {}
        self._layouts: dict[int, FittedText] = {}

    def state(self, frame: int) -> tuple[int, int | None] | None:
        """(cue, highlighted token or None) shown at `frame`; None when no cue is."""
        shown = None
        for index, (first, end) in enumerate(self.spans):
            if first <= frame < end:
                shown = index  # the latest started wins where cues overlap
        if shown is None:
            return None
        cue = self.cues[shown]
        word = None
        for token, start in cue.words:
            if first_frame_at(start, self.output.fps) <= frame:
                word = token
        return shown, word

    def apply(self, frame: int, buffer: np.ndarray) -> None:
        """Blend the caption of `frame`, if any, into the NV12 `buffer`."""
        state = self.state(frame)
        if state is not None:
            self.patch(*state).blend(buffer, self.output.width, self.output.height)

    def patch(self, cue: int, word: int | None = None) -> CaptionPatch:
        key = (cue, word)
        if key not in self._patches:
            if len(self._patches) >= _MAX_PATCHES:
                self._patches.pop(next(iter(self._patches)))
            self._patches[key] = self._draw(cue, word)
        return self._patches[key]

    # -- drawing --

    def _size(self) -> int:
        return max(MIN_PX, round(self.style.size * min(self.output.width, self.output.height)))

    def _padding(self) -> tuple[int, int]:
        size = self._size()
        return (round(size * 0.45), round(size * 0.22)) if self.style.style == "box" else (0, 0)

    def _layout(self, cue: int) -> FittedText:
        """The cue's plain text wrapped and balanced: it fixes the lines every word's picture uses."""
        if cue not in self._layouts:
            size = self._size()
            left, _, right, _ = self.output.safe_area.box(self.output.width, self.output.height)
            pad_x, _ = self._padding()
            text = " ".join(_escape(t) for t in self.cues[cue].tokens)
            lines = self.style.max_lines
            box_w = max(size, int((right - left) * 0.92) - 2 * pad_x)
            box_h = round(size * 1.5 * lines)
            floor = max(MIN_PX, round(size * 0.6))
            self._layouts[cue] = fit_text(text, self.fonts, box_w, box_h, size, floor, max_lines=lines, balance=True)
        return self._layouts[cue]

    def _draw(self, cue: int, word: int | None) -> CaptionPatch:
        fitted = self._layout(cue)
        if word is not None:
            fitted = self._highlighted(cue, word, fitted)
        pad_x, pad_y = self._padding()
        base = self._layout(cue)
        w = base.width + 2 * pad_x + (base.width + 2 * pad_x) % 2
        h = base.height + 2 * pad_y + (base.height + 2 * pad_y) % 2
        image = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        if self.style.style == "box":
            alpha = round(255 * self.style.box_opacity)
            radius = max(1, round(fitted.size * 0.25))
            draw.rounded_rectangle((0, 0, w - 1, h - 1), radius, fill=(*parse_colour(self.style.box_color), alpha))
        block = place(fitted, "caption", "text", (w - fitted.width) // 2, pad_y, fitted.width, "center", mirror=False)
        paint_block(draw, block, (*parse_colour(self.style.color), 255))
        rgba = np.asarray(image)
        return _patch(rgba, *self._where(w, h))

    def _highlighted(self, cue: int, word: int, base: FittedText) -> FittedText:
        """The cue's lines as `base` set them, token `word` in the highlight colour."""
        lines, seen, marked = [], 0, False
        for line in base.lines:
            tokens = line.split()
            out = []
            for k, token in enumerate(tokens):
                piece = _escape(token)
                if seen + k == word:
                    piece, marked = f"[[{piece}]]", True
                out.append(piece)
            seen += len(tokens)
            lines.append(" ".join(out))
        if not marked:
            return base
        wide = base.width * 4 + 1000  # the lines are set: no wrapping, one size
        text = "\n".join(lines)
        return fit_text(text, self.fonts, wide, base.height * 4 + 1000, base.size, base.size)

    def _where(self, w: int, h: int) -> tuple[int, int]:
        """Top-left corner (even) of a w×h caption in the safe area: centred, at its bottom or top."""
        width, height = self.output.width, self.output.height
        left, top, right, bottom = self.output.safe_area.box(width, height)
        gap = round(self._size() * 0.4)
        x = left + (right - left - w) // 2
        y = top + gap if self.style.position == "top" else bottom - gap - h
        x = min(max(0, x), width - w) // 2 * 2
        y = min(max(0, y), height - h) // 2 * 2
        return x, y
