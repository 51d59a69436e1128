"""The colours a slide is painted in, by the roles the layout gives its items."""

from __future__ import annotations

from dataclasses import dataclass

from ..spec import Theme

__all__ = ["Palette"]


@dataclass(frozen=True)
class Palette:
    """Colour roles (as used by the layout) → RGBA."""

    text: tuple[int, int, int, int]
    muted: tuple[int, int, int, int]
    accent: tuple[int, int, int, int]
    on_band: tuple[int, int, int, int] = (255, 255, 255, 255)
    band: tuple[int, int, int, int] = (8, 10, 16, 150)

    @classmethod
    def from_theme(cls, theme: Theme) -> Palette:
        text, accent = theme.text_rgb, theme.accent_rgb
        return cls(text=(*text, 255), muted=(*text, 205), accent=(*accent, 255))

    def __getitem__(self, role: str) -> tuple[int, int, int, int]:
        return getattr(self, role)
