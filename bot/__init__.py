"""Anshin (安心): a chat guidance bot that always leads to a human helper."""

__all__ = ["__version__"]

__version__ = "0.1.0"
