"""A deck's fonts: which files its text is set in, checked once, and loaded at a size.

    fonts = resolve_fonts(deck.theme)          # FontSet: theme fonts or the bundled Inter
    font = load_font(fonts.regular, 48)        # a FreeType font, cached per (file, size)

`resolve_fonts` turns the theme's font settings and text options into a `FontSet`
and checks every file it names (`check_font_file`), so a broken font is a one-line
error before anything is drawn. `FontSet.typeface` is the same fonts as the fallback
chains of `engine.text.fallback` see them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import ImageFont

from ..errors import AssetError
from ..resources import font_path
from .fallback import Typeface
from .sfnt import FontFileError, font_facts
from .shaping import layout_engine

if TYPE_CHECKING:  # typing only: the theme's models need no text at run time
    from ..theme import Theme

__all__ = ["FontSet", "TextOptions", "check_font_file", "load_font", "resolve_fonts"]


@dataclass(frozen=True)
class TextOptions:
    """The theme's text options (see `engine.spec.Theme`), as the layout applies them."""

    align: str = "auto"  # "auto" (each layout's own, mirrored for right-to-left) | left | center | right
    line_height: float = 1.0  # × each layout's own line spacing
    case: str = "none"  # "none" | "upper" | "upper-titles" (titles and headings only)
    legibility: str = "none"  # "none" | "shadow" | "outline" | "scrim"
    markup: bool = True  # **bold**, *italic*, [[accent]] (engine.text.markup)
    accent: str = "#ffcc00"  # colour of [[accent]] spans: the theme's accent
    language: str | None = None  # BCP 47 tag handed to the shaper (CJK glyph variants)


@dataclass(frozen=True)
class FontSet:
    """The font files a deck sets text in, where missing glyphs come from, and its text options.

    `italic` and `bold_italic` may be None: italic text is then slanted by the
    renderer (a synthetic oblique). `fallbacks` are the theme's extra fonts for
    characters its own fonts lack, tried before the bundled Inter and, when `system`
    is true, before the machine's fonts found through fontconfig.
    """

    regular: Path
    bold: Path
    italic: Path | None = None
    bold_italic: Path | None = None
    fallbacks: tuple[Path, ...] = ()
    system: bool = True
    options: TextOptions = field(default_factory=TextOptions)

    @property
    def typeface(self) -> Typeface:
        """The fonts as the text engine's fallback chains see them."""
        return _typeface(self)


@lru_cache(maxsize=64)
def _typeface(fonts: FontSet) -> Typeface:
    def optional(path: Path | None) -> str | None:
        return None if path is None else str(path)

    return Typeface(
        str(fonts.regular),
        str(fonts.bold),
        optional(fonts.italic),
        optional(fonts.bold_italic),
        tuple(str(p) for p in fonts.fallbacks),
        fonts.system,
        fonts.options.language,
    )


def resolve_fonts(theme: Theme) -> FontSet:
    """The theme's fonts, or the bundled Inter; each file checked to exist.

    A theme that names only a regular font uses it for bold text too, so a deck set in
    its own typeface is not mixed with Inter (Inter still draws characters the theme's
    font lacks, before the theme's `fallback_fonts` and the system's have a say).
    """
    own = theme.font or theme.font_bold
    if own is None:
        regular, bold = font_path("Inter-Regular.otf"), font_path("Inter-Bold.otf")
    else:
        regular, bold = Path(own), Path(theme.font_bold or own)
    options = TextOptions(
        align=theme.text_align,
        line_height=float(theme.line_height),
        case=theme.text_case,
        legibility=theme.legibility,
        markup=theme.markup,
        accent=theme.accent,
        language=theme.language,
    )
    fonts = FontSet(
        regular,
        bold,
        None if theme.font_italic is None else Path(theme.font_italic),
        None if theme.font_bold_italic is None else Path(theme.font_bold_italic),
        tuple(Path(p) for p in theme.fallback_fonts),
        theme.system_fonts,
        options,
    )
    named_files = [
        ("theme.font", theme.font),
        ("theme.font_bold", theme.font_bold),
        ("theme.font_italic", theme.font_italic),
        ("theme.font_bold_italic", theme.font_bold_italic),
    ]
    named_files += [(f"theme.fallback_fonts[{i}]", file) for i, file in enumerate(fonts.fallbacks)]
    for where, file in named_files:
        if file is not None:
            check_font_file(Path(file), where)
    return fonts


def check_font_file(file: Path | str, where: str = "") -> None:
    """Raise an AssetError of one line, naming `file` (and `where` the deck names it), unless
    it is a font file text can be set in: a regular file, OpenType or TrueType (or a
    collection), whose tables are all there and which FreeType opens.

    A `FontFileError` says what is wrong with the file itself; the file's contents are
    never quoted.
    """
    try:
        facts = font_facts(str(file))  # not a regular file, empty, not a font, cut short
    except FontFileError as exc:
        raise FontFileError(str(file), exc.problem, where) from exc
    try:
        _truetype(str(file), facts.strikes[0] if facts.strikes else 16, layout_engine())
    except (OSError, ValueError) as exc:  # FreeType's word for it: "broken file", "hmtx table missing" …
        raise FontFileError(str(file), f"cannot be read by FreeType ({exc})", where) from exc


@lru_cache(maxsize=256)
def _truetype(path: str, size: int, engine: ImageFont.Layout) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, layout_engine=engine)


def load_font(path: Path | str, size: int) -> ImageFont.FreeTypeFont:
    """`path` at `size` pixels, cached per (path, size); AssetError if unreadable.

    Laid out by raqm when it is usable (engine.text.shaping), else by basic layout.
    """
    try:
        return _truetype(str(path), int(size), layout_engine())
    except OSError as exc:  # missing file, or not a font FreeType can read
        if not Path(path).is_file():
            raise AssetError(f"font file not found: {path}", path) from exc
        raise AssetError(f"cannot read font {path}: {exc}", path) from exc
