"""Babel catalogues and locale negotiation: the lowest layer, imports nothing of Anshin."""

from bot.i18n.catalogs import CatalogIssue, Catalogs, placeholders

__all__ = ["CatalogIssue", "Catalogs", "placeholders"]
