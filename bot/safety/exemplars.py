"""Nearest exemplars: a message is compared with labelled example messages written in every locale.

`exemplars.yaml` holds, for every crisis category, every topic and "none" (ordinary messages, hyperbole,
fiction, homework), short messages in each of the nine locales, and the thresholds. Their vectors are made
ahead of time by `python -m bot.safety.exemplars build` into `exemplars.npy` (float16) with
`exemplars.meta.json` (the pin of the model and the sha256 of the YAML they were made from); a test checks
they are current. At run time one message is embedded (bot.safety.embedder) and compared with all of them:
the decision names the nearest exemplar of the winning label and its cosine score.

Loaded on first use, never at import; when the model cannot run here, `EXEMPLARS.nearest` returns None.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.safety.categories import ALL_TOPICS, CATEGORIES
from bot.safety.embedder import MAX_TOKENS, PIN, Embedder, load
from bot.yamlfile import safe_load

__all__ = ["EXEMPLARS", "NONE", "Exemplar", "ExemplarSet", "Nearest", "Thresholds", "build", "read_exemplars"]

HERE = Path(__file__).parent
YAML_PATH = HERE / "exemplars.yaml"
VECTORS_PATH = HERE / "exemplars.npy"
META_PATH = HERE / "exemplars.meta.json"
NONE = "none"  # label of ordinary messages: no topic, no crisis


@dataclass(frozen=True, slots=True)
class Exemplar:
    label: str  # a crisis category, a topic key, or "none"
    locale: str
    text: str

    @property
    def ref(self) -> str:
        return f"{self.label}/{self.locale}"


@dataclass(frozen=True, slots=True)
class Thresholds:
    crisis: dict[str, float]  # category -> lowest score that can name it
    margin: dict[str, float]  # category -> how far it must lead the best non-crisis label (may be < 0)
    topic: float  # lowest score that can name a topic
    topic_margin: float  # how far a topic must lead "none"


@dataclass(frozen=True, slots=True)
class Nearest:
    """The exemplar decision: label (category, topic, or "none"), its nearest exemplar, and the scores."""

    label: str
    exemplar: Exemplar
    score: float
    runner_up: float  # best score of a label of the other kind (crisis vs not)
    none_score: float  # best score of an ordinary message


def read_exemplars(path: Path = YAML_PATH) -> tuple[list[Exemplar], Thresholds]:
    """Read and check exemplars.yaml (labels, locales, thresholds)."""
    data = safe_load(path.read_text(encoding="utf-8"))
    known = {*CATEGORIES, *ALL_TOPICS, NONE}
    items: list[Exemplar] = []
    for label, by_locale in (data.get("exemplars") or {}).items():
        if label not in known:
            raise ValueError(f"{path.name}: exemplars.{label}: unknown label")
        for locale, texts in (by_locale or {}).items():
            items.extend(Exemplar(str(label), str(locale), str(t)) for t in texts or [])
    t = data.get("thresholds") or {}
    thresholds = Thresholds(
        crisis={c: float(t["crisis"].get(c, t["crisis"]["default"])) for c in CATEGORIES},
        margin={c: float(t["margin"].get(c, t["margin"]["default"])) for c in CATEGORIES},
        topic=float(t["topic"]),
        topic_margin=float(t["topic_margin"]),
    )
    return items, thresholds


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def expected_meta(count: int) -> dict[str, Any]:
    return {"package": PIN.package, "version": PIN.version, "files": PIN.files, "max_tokens": MAX_TOKENS,
            "exemplars_sha256": _digest(YAML_PATH), "count": count}


class ExemplarSet:
    """The exemplars, their vectors and the model, loaded together on first use (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded = False
        self._embedder: Embedder | None = None
        self.items: list[Exemplar] = []
        self.thresholds: Thresholds | None = None
        self._vectors: Any = None
        self._labels: list[str] = []
        self._label_of: Any = None  # exemplar index -> label index
        self._crisis: Any = None  # label index -> is a crisis category

    def _load(self) -> None:
        import logging

        import numpy as np

        items, thresholds = read_exemplars()
        meta = json.loads(META_PATH.read_text(encoding="utf-8")) if META_PATH.is_file() else {}
        if meta != expected_meta(len(items)) or not VECTORS_PATH.is_file():
            logging.getLogger(__name__).warning(
                "safety: exemplar vectors are stale (run python -m bot.safety.exemplars build); rules alone")
            return
        embedder = load()
        if embedder is None:
            return
        self.items, self.thresholds = items, thresholds
        self._vectors = np.load(VECTORS_PATH).astype(np.float32)
        self._labels = sorted({e.label for e in items})
        index = {label: i for i, label in enumerate(self._labels)}
        self._label_of = np.array([index[e.label] for e in items])
        self._crisis = np.array([label in CATEGORIES for label in self._labels])
        self._embedder = embedder

    def ready(self) -> bool:
        """Load once; True when the exemplar layer can answer."""
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    try:
                        self._load()
                    finally:
                        self._loaded = True
        return self._embedder is not None

    def scores(self, text: str) -> Any:
        """Cosine score of the text against every exemplar (None when the layer is off)."""
        if not self.ready() or self._embedder is None:
            return None
        return self._vectors @ self._embedder.embed(text)

    def nearest(self, text: str) -> Nearest | None:
        """The best label and its nearest exemplar; None when the layer is off."""
        import numpy as np

        sims = self.scores(text)
        if sims is None:
            return None
        best = np.full(len(self._labels), -1.0, dtype=np.float32)
        np.maximum.at(best, self._label_of, sims)
        top = int(np.argmax(best))
        other = float(np.max(best[self._crisis != self._crisis[top]]))
        members = np.flatnonzero(self._label_of == top)
        winner = int(members[np.argmax(sims[members])])
        none = float(best[self._labels.index(NONE)]) if NONE in self._labels else -1.0
        return Nearest(self._labels[top], self.items[winner], float(best[top]), other, none)

    def decide(self, near: Nearest) -> str | None:
        """What the layer answers: a crisis category, a topic, or None (nothing sure enough)."""
        t = self.thresholds
        assert t is not None
        if near.label in CATEGORIES:
            if near.score >= t.crisis[near.label] and near.score - near.runner_up >= t.margin[near.label]:
                return near.label
            return None
        if near.label != NONE and near.score >= t.topic and near.score - near.none_score >= t.topic_margin:
            return near.label
        return None


EXEMPLARS = ExemplarSet()


def build() -> int:
    """Embed every exemplar and write exemplars.npy and exemplars.meta.json."""
    import numpy as np

    items, _ = read_exemplars()
    embedder = load()
    if embedder is None:
        print("the embedder cannot run here; nothing written", file=sys.stderr)
        return 1
    vectors = embedder.embed_many([e.text for e in items]).astype(np.float16)
    np.save(VECTORS_PATH, vectors, allow_pickle=False)
    META_PATH.write_text(json.dumps(expected_meta(len(items)), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(items)} exemplars embedded -> {VECTORS_PATH.name} ({vectors.nbytes // 1024} KiB)")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["build"]:
        print("usage: python -m bot.safety.exemplars build", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(build())
