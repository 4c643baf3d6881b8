"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest

from khaibao.policies import policies


@pytest.fixture
async def made():
    """Policy keys a test creates; every version is deleted afterwards."""
    keys: list[int] = []
    yield keys
    for key in keys:
        await policies.delete(key)
