"""Flow diagrams: every button the content writes is an edge, drawn from the compiled machine."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.engine import Engine
from bot.ops.graph import GraphError, screens_for, to_mermaid, to_svg
from tests.conftest import FIXTURE_CONTENT, PROJECT
from tests.system import require_tool

EDGE = re.compile(r'^  (\w+) -->\|"([^"]*)"\| (\w+)$', re.MULTILINE)


def expected_edges(engine: Engine, sources: frozenset[str]) -> set[tuple[str, str]]:
    """Straight from the content, not from the machine, so a transition the machine lost shows up."""
    return {(key, b.to) for key in sources for b in engine.content.nodes[key].buttons if b.to is not None}


def drawn_edges(mermaid: str) -> set[tuple[str, str]]:
    return {(a.replace("__", "."), b.replace("__", ".")) for a, _, b in EDGE.findall(mermaid)}


@pytest.mark.parametrize("flow", ["start", "teen", "parent", "help"])
def test_every_written_button_is_an_edge_of_its_flow(shipped_engine: Engine, flow: str) -> None:
    sources = screens_for(shipped_engine, flow)
    assert drawn_edges(to_mermaid(shipped_engine, sources)) == expected_edges(shipped_engine, sources)


def test_edges_carry_the_button_text_in_the_chosen_language(fixture_engine: Engine) -> None:
    sources = screens_for(fixture_engine, "start")
    gettext = fixture_engine.content.catalogs.gettext
    for lang in ("ja", "en"):
        labels = {label for _, label, _ in EDGE.findall(to_mermaid(fixture_engine, sources, lang))}
        assert gettext(lang, "start.menu.btn.parent") in labels


def test_the_top_level_is_the_start_screen_and_the_audience_menus(shipped_engine: Engine) -> None:
    top = screens_for(shipped_engine, top=True)
    assert top == {"start.menu", "teen.menu", "parent.menu", "school.menu"}
    edges = drawn_edges(to_mermaid(shipped_engine, top))
    assert {source for source, _ in edges} == top
    assert ("start.menu", "parent.menu") in edges


def test_the_edge_check_can_fail(fixture_engine: Engine) -> None:
    sources = screens_for(fixture_engine, "start")
    text = to_mermaid(fixture_engine, sources)
    cut = "\n".join(line for line in text.splitlines() if "parent__menu" not in line or "-->" not in line)
    assert drawn_edges(cut) != expected_edges(fixture_engine, sources)


def test_an_unknown_flow_is_a_clear_error(fixture_engine: Engine) -> None:
    with pytest.raises(GraphError, match="unknown flow 'tean'; flows: help, parent, school, start, teen"):
        screens_for(fixture_engine, "tean")
    result = CliRunner().invoke(main, ["graph", "--root", str(FIXTURE_CONTENT), "--flow", "tean"])
    assert result.exit_code == 2


def test_the_svg_is_drawn_by_graphviz_with_every_screen(shipped_engine: Engine) -> None:
    require_tool("dot", "graphviz")
    sources = screens_for(shipped_engine, "teen")
    svg = ET.fromstring(to_svg(shipped_engine, sources))
    titles = {el.text for el in svg.iter("{http://www.w3.org/2000/svg}title")}
    assert sources <= titles


def test_the_readme_embeds_the_current_top_level_diagram() -> None:
    result = CliRunner().invoke(main, ["graph", "--root", str(PROJECT), "--top"])
    assert result.exit_code == 0
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    embedded = re.search(r"```mermaid\n(.*?)```", readme, re.DOTALL)
    assert embedded is not None
    # The same paths (labels may be reworded by content editors without touching the README).
    assert drawn_edges(embedded.group(1)) == drawn_edges(result.stdout), "paste `anshin graph --top` into README.md"
