"""Inline emphasis in slide text: ``**bold**``, ``*italic*`` and ``[[accent]]``.

    rich = parse("Eat **more** [[greens]], *every* day")
    rich.text    # "Eat more greens, every day"
    rich.flags   # one byte per character: BOLD | ITALIC | ACCENT bits

The marks follow Markdown's emphasis, made stricter so plain text survives: a mark
opens only before a non-space and not right after a letter or digit, and closes only
after a non-space and not right before a letter or digit. So ``5*3*2``, ``a * b`` and
``file_*name*`` stay as written; a mark that finds no partner is plain text; ``\\*``
and ``\\[`` are a literal star and bracket. Spans nest (``**bold [[and accent]]**``);
``***both***`` is bold italic. ``[[ … ]]`` colours its text in the theme's accent.

`Rich` is text with one flag byte per character; `Rich.upper` keeps the flags in
step when upper-casing changes a character count (ß → SS).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ACCENT", "BOLD", "ITALIC", "Rich", "parse", "plain"]

BOLD = 1
ITALIC = 2
ACCENT = 4

_KIND = {"**": BOLD, "*": ITALIC, "[[": ACCENT, "]]": ACCENT}
_TOKEN = re.compile(r"\\([*\[\]\\])|(\*\*\*|\*\*|\*|\[\[|\]\])")


@dataclass(frozen=True)
class Rich:
    """Text and, per character, its emphasis flags (a bytes of the same length)."""

    text: str
    flags: bytes

    @classmethod
    def plain(cls, text: str, flags: int = 0) -> Rich:
        return cls(text, bytes([flags]) * len(text))

    def __len__(self) -> int:
        return len(self.text)

    def __getitem__(self, index: slice) -> Rich:
        return Rich(self.text[index], self.flags[index])

    def __add__(self, other: Rich) -> Rich:
        return Rich(self.text + other.text, self.flags + other.flags)

    def upper(self) -> Rich:
        if self.text.isascii():
            return Rich(self.text.upper(), self.flags)
        chars, flags = [], bytearray()
        for ch, flag in zip(self.text, self.flags):
            up = ch.upper()
            chars.append(up)
            flags.extend([flag] * len(up))
        return Rich("".join(chars), bytes(flags))

    def split_lines(self, most: int | None = None) -> list[Rich]:
        """The text's lines (split at "\n"); with `most`, only the first `most` of them."""
        out: list[Rich] = []
        start = 0
        text = self.text
        while most is None or len(out) < most:
            end = text.find("\n", start)
            if end < 0:
                out.append(self[start:])
                break
            out.append(self[start:end])
            start = end + 1
        return out

    def squeeze(self) -> Rich:
        """Runs of whitespace as one space, none at either end (how lines are wrapped)."""
        text, flags = self.text, self.flags
        if " ".join(text.split()) == text:
            return self
        chars: list[str] = []
        out = bytearray()
        pending = None
        for ch, flag in zip(text, flags):
            if ch.isspace():
                if chars and pending is None:
                    pending = flag
                continue
            if pending is not None:
                chars.append(" ")
                out.append(pending)
                pending = None
            chars.append(ch)
            out.append(flag)
        return Rich("".join(chars), bytes(out))


def _wordy(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _can_open(text: str, start: int, end: int) -> bool:
    after = text[end] if end < len(text) else " "
    before = text[start - 1] if start > 0 else " "
    return not after.isspace() and not _wordy(before)


def _can_close(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not before.isspace() and not _wordy(after)


def parse(text: str) -> Rich:
    """`text` with its emphasis marks turned into flags (see the module's doc)."""
    if "*" not in text and "[[" not in text and "\\" not in text:
        return Rich.plain(text)
    # Tokens: ("lit", text) or ("mark", mark, can_open, can_close, paired-with)
    tokens: list[list] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        if match.start() > pos:
            tokens.append(["lit", text[pos : match.start()]])
        if match.group(1) is not None:  # an escaped character
            tokens.append(["lit", match.group(1)])
        else:
            mark = match.group(2)
            start, end = match.span()
            opens, closes = _can_open(text, start, end), _can_close(text, start, end)
            if mark == "***":  # bold italic: two marks, the inner one nearest the text
                halves = ("*", "**") if closes and not opens else ("**", "*")
                tokens.extend(["mark", half, opens, closes, None] for half in halves)
            elif mark in ("[[", "]]"):  # brackets say which way they go
                tokens.append(["mark", mark, mark == "[[", mark == "]]", None])
            else:
                tokens.append(["mark", mark, opens, closes, None])
        pos = match.end()
    if pos < len(text):
        tokens.append(["lit", text[pos:]])
    _pair(tokens)
    chars: list[str] = []
    flags = bytearray()
    active = 0
    for token in tokens:
        if token[0] == "lit" or token[4] is None:
            chars.append(token[1])
            flags.extend([active] * len(token[1]))
        elif token[4] == "open":
            active |= _KIND[token[1]]
        else:
            active &= ~_KIND[token[1]]
    return Rich("".join(chars), bytes(flags))


def _pair(tokens: list[list]) -> None:
    """Match closers to the nearest opener of the same kind (openers between are dropped)."""
    stack: list[int] = []
    for i, token in enumerate(tokens):
        if token[0] != "mark":
            continue
        _, mark, opens, closes, _ = token
        kind = _KIND[mark]
        if closes:
            for depth in range(len(stack) - 1, -1, -1):
                opener = tokens[stack[depth]]
                if _KIND[opener[1]] == kind and opener[1] != "]]":
                    opener[4], token[4] = "open", "close"
                    del stack[depth:]
                    break
            else:
                if opens:
                    stack.append(i)
            continue
        if opens:
            stack.append(i)


def plain(text: str) -> str:
    """`text` without its marks."""
    return parse(text).text
