"""Printable A4 posters (PNG or SVG) with a QR code for a campaign link.

The texts are gettext messages (``poster.*`` in ``messages.po``): a title for the audience, one line on
what the bot does and that it keeps nothing, and how to scan. No phone numbers, no other facts.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import segno

from bot.i18n import Catalogs

__all__ = [
    "FONT_PACKAGE",
    "PosterError",
    "PosterText",
    "find_font",
    "poster_text",
    "render_png",
    "render_svg",
    "write_poster",
]

FONT_PACKAGE = "fonts-noto-cjk"
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
FONT_NAMES = ("NotoSansCJK-Bold.ttc", "NotoSansCJK-Regular.ttc", "NotoSansCJKjp-Bold.otf", "NotoSansCJKjp-Regular.otf",
              "NotoSansJP-Bold.otf", "NotoSansJP-Regular.otf")
A4_MM = (210.0, 297.0)
DPI = 200
MARGIN_MM = 16.0
NO_LINE_START = set("、。,.!?!?)」』】〉》ーぁぃぅぇぉっゃゅょァィゥェォッャュョ:;・…")
SVG_FONTS = "'Noto Sans CJK JP','Noto Sans JP','Hiragino Sans','Yu Gothic',sans-serif"
INK, ACCENT = "#1b2b48", "#1f5fa8"


class PosterError(Exception):
    """A poster cannot be made (no font, unknown file type); one line, ready to print."""


@dataclass(frozen=True)
class PosterText:
    title: str
    line: str
    scan: str
    link: str


def poster_text(catalogs: Catalogs, locale: str, audience: str, link: str) -> PosterText:
    def text(msgid: str) -> str:
        return catalogs.gettext(locale, msgid)

    return PosterText(text(f"poster.title.{audience}"), text("poster.line"), text("poster.scan"), link)


def find_font(dirs: Iterable[Path] = FONT_DIRS) -> tuple[Path, int]:
    """A Japanese-capable font file and the index of its JP face inside a collection."""
    from PIL import ImageFont

    for name in FONT_NAMES:
        for base in dirs:
            for path in sorted(base.rglob(name)) if base.is_dir() else []:
                for index in range(12 if path.suffix == ".ttc" else 1):
                    try:
                        family = ImageFont.truetype(str(path), 12, index=index).getname()[0] or ""
                    except OSError:
                        break
                    if "JP" in family or path.suffix != ".ttc":
                        return path, index
    raise PosterError(f"no Japanese font found for the PNG poster: install it with `apt-get install -y {FONT_PACKAGE}`")


def wrap(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """Break a text into lines no wider than ``width``: Japanese between characters (not before 。、),
    other scripts between words."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        tokens: list[str] = []
        for char in paragraph:
            prev = tokens[-1][-1] if tokens else ""
            latin_word = not _wide(char) and prev and not _wide(prev) and prev != " "
            if prev and (char in NO_LINE_START or char == " " or latin_word):
                tokens[-1] += char
            else:
                tokens.append(char)
        line = ""
        for token in tokens:
            if line and measure((line + token).rstrip()) > width:
                lines.append(line.rstrip())
                line = token.lstrip()
            else:
                line += token
        lines.append(line.rstrip())
    return lines


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _estimate(size: float) -> Callable[[str], float]:
    return lambda s: sum(size if _wide(c) else size * 0.58 for c in s)


def render_svg(link: str, text: PosterText) -> str:
    """The poster as SVG in millimetres; the QR code is one path of unit squares, exact at any size."""
    width, height = A4_MM
    inner = width - 2 * MARGIN_MM
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}mm" height="{height:g}mm" '
           f'viewBox="0 0 {width:g} {height:g}" font-family="{SVG_FONTS}">',
           f'<rect width="{width:g}" height="{height:g}" fill="#ffffff"/>',
           f'<rect x="0" y="0" width="{width:g}" height="8" fill="{ACCENT}"/>']
    y = MARGIN_MM + 8

    def block(content: str, size: float, weight: str, color: str, gap: float) -> None:
        nonlocal y
        for row in wrap(content, inner, _estimate(size)):
            y += size * 1.25
            out.append(f'<text x="{width / 2:g}" y="{y:.1f}" font-size="{size:g}" font-weight="{weight}" '
                       f'fill="{color}" text-anchor="middle">{escape(row)}</text>')
        y += gap

    block(text.title, 13.0, "bold", INK, 6)
    block(text.line, 7.0, "normal", INK, 8)
    qr = segno.make(link, error="m", micro=False)
    modules = qr.symbol_size(scale=1, border=4)[0]
    side = min(inner * 0.62, height - y - 60)
    scale = side / modules
    squares = "".join(f"M{x + 4} {yy + 4}h1v1h-1z" for yy, row in enumerate(qr.matrix) for x, dark in enumerate(row)
                      if dark)
    left = (width - side) / 2
    out.append(f'<g id="qr" transform="translate({left:.2f} {y:.2f}) scale({scale:.4f})">'
               f'<rect width="{modules}" height="{modules}" fill="#ffffff"/>'
               f'<path fill="#000000" d="{squares}"/></g>')
    y += side + 4
    block(text.scan, 6.5, "bold", ACCENT, 2)
    block(text.link, 4.5, "normal", INK, 0)
    out.append("</svg>\n")
    return "\n".join(out)


def render_png(link: str, text: PosterText, font: tuple[Path, int] | None = None) -> bytes:
    """The poster as an A4 PNG at 200 dpi, drawn with a Japanese font found on this machine."""
    from PIL import Image, ImageDraw, ImageFont

    path, index = font or find_font()
    px = DPI / 25.4
    width, height = round(A4_MM[0] * px), round(A4_MM[1] * px)
    inner = width - 2 * MARGIN_MM * px
    image = Image.new("RGB", (width, height), "#ffffff")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, round(8 * px)), fill=ACCENT)
    y = (MARGIN_MM + 8) * px

    def block(content: str, size_mm: float, color: str, gap_mm: float) -> None:
        nonlocal y
        face = ImageFont.truetype(str(path), round(size_mm * px), index=index)
        for row in wrap(content, inner, face.getlength):
            y += size_mm * 1.25 * px
            draw.text((width / 2, y), row, font=face, fill=color, anchor="ms")
        y += gap_mm * px

    block(text.title, 13.0, INK, 6)
    block(text.line, 7.0, INK, 8)
    qr = segno.make(link, error="m", micro=False)
    modules = qr.symbol_size(scale=1, border=4)[0]
    side_mm = min((A4_MM[0] - 2 * MARGIN_MM) * 0.62, A4_MM[1] - y / px - 60)
    scale = max(1, int(side_mm * px / modules))
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=scale, border=4)
    code = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    image.paste(code, ((width - code.width) // 2, round(y)))
    y += code.height + 4 * px
    block(text.scan, 6.5, ACCENT, 2)
    block(text.link, 4.5, INK, 0)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(DPI, DPI))
    return out.getvalue()


def write_poster(target: Path, link: str, text: PosterText, font: tuple[Path, int] | None = None) -> Path:
    """Write a PNG or SVG poster, chosen by the file's extension."""
    suffix = target.suffix.lower()
    if suffix == ".svg":
        target.write_text(render_svg(link, text), encoding="utf-8")
    elif suffix == ".png":
        target.write_bytes(render_png(link, text, font))
    else:
        raise PosterError(f"poster file {target.name!r} must end in .png or .svg")
    return target
