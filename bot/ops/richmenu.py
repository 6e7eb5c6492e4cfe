"""LINE rich menus made from the content: the four doors of the start screen, per language, and a language menu.

Each language's menu (2500x1686) has the start screen's four doors, 中高生 / 保護者 / 学校 / 今すぐ助けが必要, as
postback areas whose data is the start screen's own button id in that language, and a strip below that opens the
language menu: a rich menu switch to the alias ``anshin-lang`` whose data is the start screen's language button
(so the bot answers with the language screen too). The language menu has one area per language: a switch to that
language's menu (alias ``anshin-<locale>``) whose data is the language screen's button for it, so the bot answers
with the start screen in that language. LINE switches the menu on the phone; the server keeps nothing.

LINE takes a rich menu's picture as an image, so the labels are drawn (Pillow, the Japanese font the posters use,
``fonts-noto-cjk``). A language whose labels that font cannot draw (Nepali's Devanagari) gets no menu of its own
and is left out of the language menu; its users still have every screen and the language button in the chat.
Emoji are left out of the drawing (the font has none). A menu's name carries a digest of its definition and its
picture, so that `anshin line setup` can tell a current menu from an old one.
"""

from __future__ import annotations

import hashlib
import io
import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.engine import Engine, Event, decode_button
from bot.ops.poster import find_font

__all__ = ["ALIAS_PREFIX", "DOORS", "LANGUAGE_ALIAS", "NAME_PREFIX", "MenuPlan", "RichMenuError", "alias_for",
           "plan_menus"]

WIDTH, HEIGHT = 2500, 1686
STRIP = 330  # the language strip at the bottom
NAME_PREFIX = "anshin:"
ALIAS_PREFIX = "anshin-"
LANGUAGE_ALIAS = "anshin-lang"
DOORS = ("teen.menu", "parent.menu", "school.menu", "help.now")  # the start screen's targets, in reading order
COLOURS = {"teen.menu": "#2f6fb5", "parent.menu": "#2e8b57", "school.menu": "#8a5a2b", "help.now": "#c0392b"}
STRIP_COLOUR, INK = "#eef2f7", "#1b2b48"
MAX_IMAGE = 1 << 20  # LINE: a rich menu image is at most 1 MB


def alias_for(locale: str) -> str:
    """A language menu's alias: LINE takes ``[a-z0-9_-]{1,32}`` (``anshin-pt_br``)."""
    return f"{ALIAS_PREFIX}{locale.lower()}"


class RichMenuError(Exception):
    """The rich menus cannot be made (no font, the start screen lacks a door); one line, ready to print."""


@dataclass(frozen=True)
class MenuPlan:
    alias: str  # anshin-ja, ..., anshin-lang
    locale: str | None  # None: the language menu
    request: dict[str, Any]  # RichMenuRequest JSON, its name carrying the digest
    image: bytes  # PNG

    @property
    def name(self) -> str:
        return str(self.request["name"])


def _drawable(text: str) -> str:
    """The label without emoji and their joiners/selectors (the font has no emoji)."""
    kept = "".join(c for c in text if unicodedata.category(c) != "So" and not 0xFE00 <= ord(c) <= 0xFE0F
                   and c != "\u200d")
    return " ".join(kept.split())


class _Painter:
    def __init__(self, font_path: Path, index: int) -> None:
        self.path, self.index = font_path, index
        self._fonts: dict[int, Any] = {}
        self._missing = self._glyph("\U0010fffd")  # what the font draws for a character it lacks

    def font(self, size: int) -> Any:
        from PIL import ImageFont

        if size not in self._fonts:
            self._fonts[size] = ImageFont.truetype(str(self.path), size, index=self.index)
        return self._fonts[size]

    def _glyph(self, char: str) -> bytes:
        from PIL import Image, ImageDraw

        cell = Image.new("L", (96, 96), 0)
        ImageDraw.Draw(cell).text((16, 8), char, font=self.font(64), fill=255)
        return cell.tobytes()

    def draws(self, text: str) -> bool:
        return all(c.isspace() or self._glyph(c) != self._missing for c in text)

    def image(self, areas: list[tuple[tuple[int, int, int, int], str, str]]) -> bytes:
        from PIL import Image, ImageDraw

        picture = Image.new("RGB", (WIDTH, HEIGHT), "#ffffff")
        draw = ImageDraw.Draw(picture)
        for (x, y, w, h), label, colour in areas:
            draw.rectangle((x + 6, y + 6, x + w - 6, y + h - 6), fill=colour)
            ink = "#ffffff" if colour != STRIP_COLOUR else INK
            size = 120 if h > STRIP else 90
            while size > 40 and self.font(size).getlength(label) > w - 80:
                size -= 6
            draw.text((x + w / 2, y + h / 2), label, font=self.font(size), fill=ink, anchor="mm")
        out = io.BytesIO()
        picture.save(out, format="PNG", optimize=True)
        return out.getvalue()


def _door_areas(width: int, height: int) -> list[tuple[int, int, int, int]]:
    half_w, half_h = width // 2, height // 2
    return [(0, 0, half_w, half_h), (half_w, 0, width - half_w, half_h), (0, half_h, half_w, height - half_h),
            (half_w, half_h, width - half_w, height - half_h)]


def _bounds(box: tuple[int, int, int, int]) -> dict[str, int]:
    x, y, w, h = box
    return {"x": x, "y": y, "width": w, "height": h}


def _finish(alias: str, locale: str | None, request: dict[str, Any], image: bytes) -> MenuPlan:
    if len(image) > MAX_IMAGE:
        raise RichMenuError(f"the {alias} rich menu image is {len(image)} bytes, over LINE's 1 MB")
    digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode() + image).hexdigest()[:16]
    named = {"name": f"{NAME_PREFIX}{locale or 'lang'}:{digest}", **request}
    return MenuPlan(alias, locale, named, image)


def plan_menus(engine: Engine, default: str | None = None, font: tuple[Path, int] | None = None) -> list[MenuPlan]:
    """One menu per language the font draws (the default first) and the language menu."""
    from bot.ops.poster import PosterError

    try:
        painter = _Painter(*(font or find_font()))
    except PosterError as error:
        raise RichMenuError(f"the rich menus need a Japanese font: {error}") from None
    catalogs = engine.content.catalogs
    first = default if default in engine.locales else catalogs.default
    locales = [first, *(code for code in engine.locales if code != first)]
    plans: list[MenuPlan] = []
    for locale in locales:
        start = engine.handle(Event("start", "", locale))[0]
        buttons = {decode_button(b.id).trigger: b for row in start.buttons for b in row  # type: ignore[union-attr]
                   if b.id and decode_button(b.id) is not None}
        missing = [door for door in DOORS if door not in buttons]
        language = next((b for trigger, b in buttons.items() if trigger.endswith("language")), None)
        if missing or language is None:
            raise RichMenuError(f"the start screen has no button to {(missing or ['start.language'])[0]}")
        labels = [_drawable(buttons[door].short_label) for door in DOORS] + [_drawable(language.short_label)]
        if not all(painter.draws(label) for label in labels):
            continue  # this language's script is not in the font
        boxes = _door_areas(WIDTH, HEIGHT - STRIP)
        strip = (0, HEIGHT - STRIP, WIDTH, STRIP)
        areas = [{"bounds": _bounds(box), "action": {"type": "postback", "label": buttons[door].short_label,
                                                     "data": buttons[door].id}}
                 for box, door in zip(boxes, DOORS, strict=True)]
        areas.append({"bounds": _bounds(strip), "action": {
            "type": "richmenuswitch", "label": language.short_label, "richMenuAliasId": LANGUAGE_ALIAS,
            "data": language.id}})
        request = {"size": {"width": WIDTH, "height": HEIGHT}, "selected": False,
                   "chatBarText": catalogs.gettext(locale, "sys.line.menu"), "areas": areas}
        painted = [(box, labels[n], COLOURS[door]) for n, (box, door) in enumerate(zip(boxes, DOORS, strict=True))]
        painted.append((strip, labels[-1], STRIP_COLOUR))
        plans.append(_finish(alias_for(locale), locale, request, painter.image(painted)))
    plans.append(_language_menu(engine, [p.locale for p in plans if p.locale], first, painter))
    return plans


def _language_menu(engine: Engine, locales: list[str], default: str, painter: _Painter) -> MenuPlan:
    """One area per language with a menu: switch to it, and answer with its start screen."""
    catalogs = engine.content.catalogs
    screen = engine.handle(Event("command", "language", default))[0]
    choices = {decode_button(b.id).locale: b for row in screen.buttons for b in row  # type: ignore[union-attr]
               if b.id and decode_button(b.id) is not None and decode_button(b.id).trigger == "@home"}  # type: ignore[union-attr]
    columns = 2
    rows = (len(locales) + columns - 1) // columns
    areas, painted = [], []
    for n, locale in enumerate(locales):
        button = choices.get(locale)
        if button is None:
            continue
        w, h = WIDTH // columns, HEIGHT // rows
        box = ((n % columns) * w, (n // columns) * h, w, h)
        name = catalogs.display_name(locale)
        areas.append({"bounds": _bounds(box), "action": {"type": "richmenuswitch", "label": name[:20],
                                                         "richMenuAliasId": alias_for(locale),
                                                         "data": button.id}})
        painted.append((box, _drawable(name), STRIP_COLOUR if n % 2 else "#2f6fb5"))
    request = {"size": {"width": WIDTH, "height": HEIGHT}, "selected": True,
               "chatBarText": catalogs.gettext(default, "sys.line.menu"), "areas": areas}
    return _finish(LANGUAGE_ALIAS, None, request, painter.image(painted))
