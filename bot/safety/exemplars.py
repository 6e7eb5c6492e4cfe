"""The second opinion: a message's sentence vector read against labelled examples in every locale.

`exemplars.yaml` holds short example messages for every crisis category, every topic and "none" (ordinary
messages, hyperbole, fiction, homework) in each of the nine locales, and the thresholds. Ahead of time,
`python -m bot.safety.exemplars build` embeds them and the tuned evaluation sets (tests/data/safety_*.yaml,
never tests/data/unseen/) and trains a linear read-out over the vectors (probe.py); it writes
`exemplars.npz` (exemplar vectors, weights) and `exemplars.meta.json` (the model pin, the sha256 of every
input, the labels). A test checks they are current.

At run time one message is embedded (embedder.py): the read-out gives a probability per label, and the
decision names the label, its probability and the nearest exemplar of that label with its cosine score.
Loaded on first use, never at import; when the model cannot run here, `EXEMPLARS.read` returns None.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.safety.augment import variants
from bot.safety.categories import ALL_TOPICS, CATEGORIES, SCREEN_CATEGORY
from bot.safety.embedder import MAX_TOKENS, PIN, Embedder, load
from bot.safety.probe import probabilities, train
from bot.safety.text import LIMIT
from bot.yamlfile import safe_load

if TYPE_CHECKING:
    from bot.safety.evaluate import Case

__all__ = ["EXEMPLARS", "NONE", "Exemplar", "ExemplarSet", "Reading", "Thresholds", "build", "read_exemplars",
           "training_files", "training_rows"]

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
ROOT = HERE.parents[1]
YAML_PATH = HERE / "exemplars.yaml"
ARRAYS_PATH = HERE / "exemplars.npz"
META_PATH = HERE / "exemplars.meta.json"
NONE = "none"  # ordinary messages: no topic, no crisis


@dataclass(frozen=True, slots=True)
class Exemplar:
    label: str  # a crisis category, a topic key, or "none"
    locale: str
    text: str


@dataclass(frozen=True, slots=True)
class Thresholds:
    emergency: float  # probability of danger now that is enough on its own (recall first)
    crisis: float  # probability the winning crisis category needs
    topic: float  # probability the winning topic needs
    nearest: float  # cosine at which the nearest crisis exemplar decides when the read-out is unsure
    nearest_rules_language: float  # the same in Japanese and English
    crisis_rules_language: float  # probability at which the read-out names a crisis in Japanese and English too


@dataclass(frozen=True, slots=True)
class Reading:
    """What the exemplar layer read: a label (or None: not sure), its probability, the nearest exemplar."""

    label: str | None
    probability: float
    nearest: Exemplar
    similarity: float


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
    t = data["thresholds"]
    return items, Thresholds(float(t["emergency"]), float(t["crisis"]), float(t["topic"]), float(t["nearest"]),
                             float(t["nearest_rules_language"]), float(t["crisis_rules_language"]))


def training_files() -> list[Path]:
    """The sets the read-out learns from: the tuned evaluation sets and the development sets (never the unseen ones)."""
    data = ROOT / "tests" / "data"
    return sorted(data.glob("safety_*.yaml")) + sorted((data / "dev").glob("safety_*.yaml"))


def training_rows(items: list[Exemplar], cases: list[Case]) -> list[tuple[str, str]]:
    """What the read-out learns from, as (text to embed, label): the exemplars, the tuned phrases, and the other
    spellings of each (augment.py)."""
    rows = [(e.text, e.label) for e in items]
    rows += [(unicodedata.normalize("NFKC", c.text[:LIMIT]), c.category or c.topic or NONE) for c in cases]
    return rows + [(variant, label) for text, label in rows for variant in variants(text)]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pin() -> dict[str, Any]:
    """What the vectors and the read-out depend on: a change to any of it calls for a rebuild."""
    return {"package": PIN.package, "version": PIN.version, "files": PIN.files, "max_tokens": MAX_TOKENS,
            "exemplars_sha256": _digest(YAML_PATH),
            "trainer_sha256": {name: _digest(HERE / name) for name in ("augment.py", "probe.py")}}


class ExemplarSet:
    """Exemplars, vectors, read-out and model, loaded together on first use (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded = False
        self._embedder: Embedder | None = None
        self.items: list[Exemplar] = []
        self.labels: list[str] = []
        self.thresholds = Thresholds(1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
        self._arrays: dict[str, Any] = {}
        self._members: dict[str, Any] = {}  # label -> indices of its exemplars

    def _load(self) -> None:
        embedder = load()
        if embedder is None:
            return
        import numpy as np

        items, thresholds = read_exemplars()
        meta = json.loads(META_PATH.read_text(encoding="utf-8")) if META_PATH.is_file() else {}
        if meta.get("pin") != _pin() or meta.get("count") != len(items) or not ARRAYS_PATH.is_file():
            log.warning("safety: exemplar vectors are stale (python -m bot.safety.exemplars build); rules alone")
            return
        with np.load(ARRAYS_PATH, allow_pickle=False) as arrays:
            self._arrays = {name: arrays[name].astype(np.float32) for name in ("vectors", "weight", "bias")}
        self.items, self.thresholds, self.labels = items, thresholds, list(meta["labels"])
        for i, e in enumerate(items):
            self._members.setdefault(e.label, []).append(i)
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

    def vector(self, text: str) -> Any:
        """The message's unit vector (None when the layer is off)."""
        return self._embedder.embed(text) if self.ready() and self._embedder is not None else None

    def read(self, text: str, rules_language: bool = False) -> Reading | None:
        """The decided label (or None), its probability and its nearest exemplar; None when off.

        rules_language: Japanese or English, where the rules decide crises; the read-out then names topics
        only, and a crisis needs a near paraphrase of a crisis exemplar."""
        import numpy as np

        q = self.vector(text)
        if q is None:
            return None
        p = probabilities(self._arrays["weight"], self._arrays["bias"], q)
        top = int(np.argmax(p))
        label: str | None = self.labels[top]
        t = self.thresholds
        emergency = self.labels.index("emergency")
        if rules_language and (label in CATEGORIES or label in SCREEN_CATEGORY):
            label = label if p[top] >= t.crisis_rules_language else None
        elif p[emergency] >= t.emergency and not rules_language:
            label, top = "emergency", emergency
        elif label in CATEGORIES or label in SCREEN_CATEGORY:
            label = label if p[top] >= t.crisis else None
        elif label == NONE or p[top] < t.topic:
            label = None
        sims = self._arrays["vectors"] @ q
        closest = int(np.argmax(sims))
        twin = self.items[closest].label
        enough = t.nearest_rules_language if rules_language else t.nearest
        if label is None and sims[closest] >= enough and (twin in CATEGORIES or twin in SCREEN_CATEGORY):
            label, top = twin, self.labels.index(twin)  # all but the same words as a crisis exemplar
        members = self._members.get(self.labels[top]) or range(len(self.items))
        nearest = max(members, key=lambda i: sims[i])
        return Reading(label, float(p[top]), self.items[nearest], float(sims[nearest]))


EXEMPLARS = ExemplarSet()


def build() -> int:
    """Embed the exemplars and the tuned sets, train the read-out, write exemplars.npz and the meta."""
    import numpy as np

    from bot.safety.evaluate import load_cases

    items, _ = read_exemplars()
    embedder = load()
    if embedder is None:
        print("the embedder cannot run here; nothing written", file=sys.stderr)
        return 1
    files = training_files()
    cases = [c for path in files for c in load_cases(path)]
    rows = training_rows(items, cases)
    texts = sorted({text for text, _ in rows})
    cache = dict(zip(texts, embedder.embed_many(texts), strict=True))
    vectors = np.stack([cache[e.text] for e in items])
    labels = sorted({label for _, label in rows})
    weight, bias = train(np.stack([cache[text] for text, _ in rows]), [labels.index(label) for _, label in rows],
                         len(labels))
    np.savez(ARRAYS_PATH, vectors=vectors.astype(np.float16), weight=weight, bias=bias)
    meta = {"pin": _pin(), "count": len(items), "labels": labels,
            "trained_on": {p.relative_to(ROOT).as_posix(): _digest(p) for p in files}}
    META_PATH.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(items)} exemplars and {len(cases)} tuned phrases ({len(rows)} rows with their other spellings) "
          f"embedded; read-out of {len(labels)} labels "
          f"-> {ARRAYS_PATH.name} ({ARRAYS_PATH.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["build"]:
        print("usage: python -m bot.safety.exemplars build", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(build())
