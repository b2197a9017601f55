"""Shared fixtures. Module-specific fixtures live in tests/fakes/*.py and are imported by the tests that use them."""

from __future__ import annotations

import os

import pytest

# no test may pick up an operator's real configuration or secrets (COUNTERPOINT_TEST_* are the tests' own knobs)
for _name in list(os.environ):
    if _name.startswith(("COUNTERPOINT_", "DISCORD_", "REDDIT_")) and not _name.startswith("COUNTERPOINT_TEST_"):
        del os.environ[_name]


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path, monkeypatch):
    """Each test runs in its own folder, so a stray .env or data/ never leaks in or out."""
    monkeypatch.chdir(tmp_path)
    yield
