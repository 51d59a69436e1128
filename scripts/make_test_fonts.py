"""Cut the small font files the text tests use out of Debian's Noto packages.

The complex-script tests (tests/test_text*.py) need an Arabic, a Hebrew, a Devanagari,
a Thai, a Japanese and a colour-emoji font, and must not depend on what a machine has
installed. The full Noto files weigh ~60 MB; these subsets keep only the characters
the tests draw (plus whole basic alphabets where that costs little), with every
OpenType layout feature and the glyphs those features reach, so shaping is real.
They go to tests/data/fonts/, each with its OFL licence beside it. Run again only to
change what they cover:

    mkdir -p /tmp/noto && cd /tmp/noto
    apt-get download fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji
    for f in *.deb; do dpkg-deb -x "$f" x; done
    pip install fonttools              # this script only; the tests do not need it
    python scripts/make_test_fonts.py /tmp/noto/x/usr/share/fonts

Debian bookworm's packages were used: fonts-noto-core 20201225-1, fonts-noto-cjk
1:20220127+repack1-1, fonts-noto-color-emoji 2.042-0+deb12u1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "fonts"

#: What every subset keeps besides its own script: space, digits, common punctuation.
COMMON = " 0123456789.,:;!?-()\u00a0"


def _span(first: int, last: int) -> str:
    return "".join(chr(c) for c in range(first, last + 1))


# (output name, source file under the fonts folder, face index, characters to keep)
SUBSETS = [
    (
        "NotoSansArabic-subset.ttf",
        "truetype/noto/NotoSansArabic-Regular.ttf",
        0,
        _span(0x0621, 0x0652) + _span(0x0660, 0x066C) + "\u060c\u061b\u061f\u0640",
    ),
    (
        "NotoSansHebrew-subset.ttf",
        "truetype/noto/NotoSansHebrew-Regular.ttf",
        0,
        _span(0x05B0, 0x05C7) + _span(0x05D0, 0x05EA) + "\u05be",
    ),
    (
        "NotoSansDevanagari-subset.ttf",
        "truetype/noto/NotoSansDevanagari-Regular.ttf",
        0,
        "नमस्ते दुनिया हिन्दी किताब क्षत्र" + "\u0964\u0965",
    ),
    (
        "NotoSansThai-subset.ttf",
        "truetype/noto/NotoSansThai-Regular.ttf",
        0,
        _span(0x0E01, 0x0E3A) + _span(0x0E40, 0x0E5B),
    ),
    (
        "NotoSansJP-subset.otf",
        "opentype/noto/NotoSansCJK-Regular.ttc",
        0,  # face 0: Noto Sans CJK JP
        "こんにちは世界日本語サラダ一週間の食事、。「」",
    ),
    (
        "NotoColorEmoji-subset.ttf",
        "truetype/noto/NotoColorEmoji.ttf",
        0,
        "\U0001f600\U0001f389\U0001f957\u2764\ufe0f\U0001f44d\U0001f3fd\u200d",
    ),
]

OFL = """\
This Font Software is licensed under the SIL Open Font License, Version 1.1.
This license is copied below, and is also available with a FAQ at:
https://openfontlicense.org

-----------------------------------------------------------
SIL OPEN FONT LICENSE Version 1.1 - 26 February 2007
-----------------------------------------------------------

PREAMBLE
The goals of the Open Font License (OFL) are to stimulate worldwide
development of collaborative font projects, to support the font creation
efforts of academic and linguistic communities, and to provide a free and
open framework in which fonts may be shared and improved in partnership
with others.

The OFL allows the licensed fonts to be used, studied, modified and
redistributed freely as long as they are not sold by themselves. The
fonts, including any derivative works, can be bundled, embedded,
redistributed and/or sold with any software provided that any reserved
names are not used by derivative works. The fonts and derivatives,
however, cannot be released under any other type of license. The
requirement for fonts to remain under this license does not apply
to any document created using the fonts or their derivatives.

DEFINITIONS
"Font Software" refers to the set of files released by the Copyright
Holder(s) under this license and clearly marked as such. This may
include source files, build scripts and documentation.

"Reserved Font Name" refers to any names specified as such after the
copyright statement(s).

"Original Version" refers to the collection of Font Software components as
distributed by the Copyright Holder(s).

"Modified Version" refers to any derivative made by adding to, deleting,
or substituting -- in part or in whole -- any of the components of the
Original Version, by changing formats or by porting the Font Software to a
new environment.

"Author" refers to any designer, engineer, programmer, technical
writer or other person who contributed to the Font Software.

PERMISSION & CONDITIONS
Permission is hereby granted, free of charge, to any person obtaining
a copy of the Font Software, to use, study, copy, merge, embed, modify,
redistribute, and sell modified and unmodified copies of the Font
Software, subject to the following conditions:

1) Neither the Font Software nor any of its individual components,
in Original or Modified Versions, may be sold by itself.

2) Original or Modified Versions of the Font Software may be bundled,
redistributed and/or sold with any software, provided that each copy
contains the above copyright notice and this license. These can be
included either as stand-alone text files, human-readable headers or
in the appropriate machine-readable metadata fields within text or
binary files as long as those fields can be easily viewed by the user.

3) No Modified Version of the Font Software may use the Reserved Font
Name(s) unless explicit written permission is granted by the corresponding
Copyright Holder. This restriction only applies to the primary font name as
presented to the users.

4) The name(s) of the Copyright Holder(s) and the Author(s) of the Font
Software shall not be used to promote, endorse or advertise any
Modified Version, except to acknowledge the contribution(s) of the
Copyright Holder(s) and the Author(s) or with their explicit written
permission.

5) The Font Software, modified or unmodified, in part or in whole,
must be distributed entirely under this license, and must not be
distributed under any other license. The requirement for fonts to
remain under this license does not apply to any document created
using the Font Software.

TERMINATION
This license becomes null and void if any of the above conditions are
not met.

DISCLAIMER
THE FONT SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND,
EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO ANY WARRANTIES OF
MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT
OF COPYRIGHT, PATENT, TRADEMARK, OR OTHER RIGHT. IN NO EVENT SHALL THE
COPYRIGHT HOLDER BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY,
INCLUDING ANY GENERAL, SPECIAL, INDIRECT, INCIDENTAL, OR CONSEQUENTIAL
DAMAGES, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING
FROM, OUT OF THE USE OR INABILITY TO USE THE FONT SOFTWARE OR FROM
OTHER DEALINGS IN THE FONT SOFTWARE.
"""


def _name(font, name_id: int) -> str:
    record = font["name"].getName(name_id, 3, 1, 0x409) or font["name"].getName(name_id, 1, 0, 0)
    return str(record) if record else ""


def subset(source: Path, index: int, keep: str, target: Path) -> str:
    """Write the subset of `source` to `target`; returns the font's copyright notice."""
    from fontTools import subset as ft_subset
    from fontTools.ttLib import TTFont

    font = TTFont(source, fontNumber=index, lazy=False)
    notice = _name(font, 0)
    options = ft_subset.Options()
    options.layout_features = ["*"]  # every GSUB/GPOS feature: the tests are about shaping
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True  # a visible .notdef, as in the full font
    options.glyph_names = False
    options.hinting = False  # hinting is dropped: FreeType's autohinter is not used by Pillow's default
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(unicodes=sorted({ord(c) for c in keep + COMMON}))
    subsetter.subset(font)
    # Name the subset apart from the original (OFL: a Modified Version).
    for record in font["name"].names:
        if record.nameID in (1, 4, 16):
            record.string = f"{record.toUnicode()} Reel test subset"
    font.save(target)
    return notice


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("fonts", type=Path, help="the extracted usr/share/fonts folder of Debian's Noto packages")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, source, index, keep in SUBSETS:
        target = OUT / name
        notice = subset(args.fonts / source, index, keep, target)
        licence = target.with_name(target.stem + ".OFL.txt")
        if "Adobe" in notice:  # Noto Sans CJK is Source Han Sans, whose licence reserves a name
            notice += "\nUpstream licence: Copyright 2014-2021 Adobe, with Reserved Font Name 'Source'."
        licence.write_text(
            f"{name}: a subset of {Path(source).name} (Noto fonts, https://notofonts.github.io)\n"
            f"made by scripts/make_test_fonts.py for Reel's tests.\n\n{notice}\n\n{OFL}",
            encoding="utf-8",
        )
        print(f"{name}: {target.stat().st_size / 1024:.1f} KiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
