"""Import aiogram with its Telegram types and methods built when first used, not all at import.

``aiogram.types`` ends by calling ``model_rebuild`` on each of its 444 models that refer to others, so that
importing aiogram builds a validator for every type of the Bot API: 2.4 s and about 110 MB that a worker keeps
for life, although it reads a handful of types (aiogram issues #1513, #1891). Here, during the import:
- those calls are held back, and the names they would have resolved are given to each type's module, so that
  pydantic builds a type by itself, completely, the first time it is used (an update: about 0.08 s, once);
- aiogram's two base classes (``TelegramObject``, ``TelegramMethod``) get pydantic's ``defer_build``, so that the
  other models' validators too are built on first use rather than as each class is defined (0.1 s).
Nothing else changes: the same classes, the same validation, built the same way, later.

If aiogram or pydantic ever change so that this does not apply (no call held back, or a type that cannot be
prepared), the held-back calls are made at once, as aiogram would have made them.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["deferred_types", "import_aiogram"]

log = logging.getLogger(__name__)
deferred_types: list[type[BaseModel]] = []  # the models whose build was held back (for tests)
_BASES = {"aiogram.types.base": "TelegramObject", "aiogram.methods.base": "TelegramMethod"}


class _DeferBuild(importlib.abc.MetaPathFinder):
    """Sets ``defer_build`` on aiogram's base model classes as soon as their modules have run."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _BASES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        loader = spec.loader if spec is not None else None
        if spec is None or loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            base = getattr(module, _BASES[fullname], None)
            config = getattr(base, "model_config", None)
            if isinstance(config, dict):
                config["defer_build"] = True

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def import_aiogram() -> None:
    """Import ``aiogram`` (once), holding back ``aiogram.types``' eager rebuild of every model."""
    if "aiogram" in sys.modules:
        return  # imported already (eagerly, by someone else): nothing to do
    from pydantic import BaseModel

    original = BaseModel.__dict__["model_rebuild"]
    namespace: dict[str, Any] = {}

    def hold_back(cls: type[BaseModel], *args: Any, **kwargs: Any) -> bool | None:
        if not args and "_types_namespace" in kwargs and cls.__module__.startswith("aiogram.types."):
            namespace.update(kwargs["_types_namespace"])
            deferred_types.append(cls)
            return None
        return original.__func__(cls, *args, **kwargs)  # type: ignore[no-any-return]

    finder = _DeferBuild()
    sys.meta_path.insert(0, finder)
    BaseModel.model_rebuild = classmethod(hold_back)  # type: ignore[method-assign,assignment]
    try:
        import aiogram  # noqa: F401  (aiogram/__init__ imports aiogram.types and everything else)
    finally:
        BaseModel.model_rebuild = original  # type: ignore[method-assign]
        sys.meta_path.remove(finder)
    if not namespace:
        return
    try:
        for name, module in list(sys.modules.items()):
            if name.startswith("aiogram.types.") and module is not None:
                for key, value in namespace.items():
                    module.__dict__.setdefault(key, value)
    except Exception as error:  # never leave types half-prepared: build them as aiogram would have
        log.warning("aiogram types built at import after all: %s", type(error).__name__)
        for cls in deferred_types:
            cls.model_rebuild(_types_namespace=namespace)


import_aiogram()
