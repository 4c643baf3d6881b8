"""Piccolo tables, one module per domain. ``ALL_TABLES`` is what migrations and the engine
binding see; add a new domain's tables here."""

from khaibao.tables.infra import RateCounter, WebSession

ALL_TABLES = [WebSession, RateCounter]

__all__ = ["ALL_TABLES", "RateCounter", "WebSession"]
