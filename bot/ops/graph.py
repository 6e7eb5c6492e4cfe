"""Flow diagrams from the compiled transitions machine: every button path, for editors and reviewers.

Edges are the machine's own transitions (a trigger from a source screen to a destination), labelled with the
button's text. The two buttons every screen gets ("talk to a person", "main menu") are left out and named in a
note, so the picture shows the paths the content writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.engine import Engine
from bot.engine.machine import AUDIENCE_MENUS, HELP_SCREEN, START_SCREEN

__all__ = ["Edge", "GraphError", "edges", "screens_for", "to_dot_source", "to_mermaid", "to_svg"]

TOP = (START_SCREEN, *AUDIENCE_MENUS.values())
NOTE = {
    "ja": "どの画面にも「人に相談する」(→ help.menu)と「メニューにもどる」のボタンがあります",
    "en": "Every screen also has “talk to a person” (→ help.menu) and “main menu”",
}


class GraphError(Exception):
    """A diagram cannot be made (unknown flow, no graphviz); one line, ready to print."""


@dataclass(frozen=True, order=True)
class Edge:
    source: str
    target: str
    label: str


def screens_for(engine: Engine, flow: str | None = None, top: bool = False) -> frozenset[str]:
    """The screens whose buttons are drawn: one flow, the top level (start and audience menus), or all."""
    screens = engine.machine.screens
    if top:
        return frozenset(s for s in TOP if s in screens)
    if flow is None:
        return screens
    chosen = frozenset(s for s in screens if s.partition(".")[0] == flow)
    if not chosen:
        flows = sorted({s.partition(".")[0] for s in screens})
        raise GraphError(f"unknown flow {flow!r}; flows: {', '.join(flows)}")
    return chosen


def edges(engine: Engine, sources: Iterable[str], lang: str = "ja") -> list[Edge]:
    """The machine's content transitions out of ``sources``, each labelled with its button's text."""
    wanted = frozenset(sources)
    content, gettext = engine.content, engine.content.catalogs.gettext
    found: set[Edge] = set()
    for trigger, event in engine.machine.machine.events.items():
        if trigger.startswith("@"):
            continue  # "talk to a person" and "main menu": on every screen, named in the note
        for source, transitions in event.transitions.items():
            if source not in wanted:
                continue
            for transition in transitions:
                dest = str(transition.dest)
                label = next((gettext(lang, b.label) for b in content.nodes[source].buttons if b.to == dest), trigger)
                found.add(Edge(source, dest, label))
    order = {s: i for i, s in enumerate(TOP)}

    def position(edge: Edge) -> tuple[int, str, int, str]:
        targets = [b.to for b in content.nodes[edge.source].buttons]
        index = targets.index(edge.target) if edge.target in targets else len(targets)
        return order.get(edge.source, len(order)), edge.source, index, edge.target

    return sorted(found, key=position)


def _id(screen: str) -> str:
    return screen.replace(".", "__")


def _quote(text: str) -> str:
    return text.replace('"', "#quot;").replace("\n", " ")


def to_mermaid(engine: Engine, sources: Iterable[str], lang: str = "ja") -> str:
    drawn = edges(engine, sources, lang)
    nodes = sorted({e.source for e in drawn} | {e.target for e in drawn} | set(sources))
    lines = ["flowchart LR", f"  %% {NOTE.get(lang, NOTE['en'])}"]
    for screen in nodes:
        shape = f'(["{screen}"])' if screen in (START_SCREEN, HELP_SCREEN) else f'["{screen}"]'
        lines.append(f"  {_id(screen)}{shape}")
    lines.extend(f'  {_id(e.source)} -->|"{_quote(e.label)}"| {_id(e.target)}' for e in drawn)
    return "\n".join(lines) + "\n"


def to_dot_source(engine: Engine, sources: Iterable[str], lang: str = "ja") -> str:
    import graphviz

    drawn = edges(engine, sources, lang)
    graph = graphviz.Digraph("anshin", graph_attr={"rankdir": "LR", "label": NOTE.get(lang, NOTE["en"]),
                                                   "fontname": "Noto Sans CJK JP"},
                             node_attr={"shape": "box", "style": "rounded", "fontname": "Noto Sans CJK JP"},
                             edge_attr={"fontname": "Noto Sans CJK JP", "fontsize": "10"})
    for screen in sorted({e.source for e in drawn} | {e.target for e in drawn} | set(sources)):
        graph.node(screen, screen, shape="oval" if screen in (START_SCREEN, HELP_SCREEN) else "box")
    for edge in drawn:
        graph.edge(edge.source, edge.target, label=edge.label)
    return str(graph.source)


def to_svg(engine: Engine, sources: Iterable[str], lang: str = "ja") -> str:
    import graphviz

    source = graphviz.Source(to_dot_source(engine, sources, lang))
    try:
        return str(source.pipe(format="svg", encoding="utf-8"))
    except graphviz.ExecutableNotFound:
        raise GraphError("graphviz's `dot` is not installed: `apt-get install -y graphviz`") from None
