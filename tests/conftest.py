"""Shared fixtures. Module-specific fixtures live in tests/fakes/*.py and are imported by the tests that use them."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest

# no test may pick up an operator's real configuration or secrets (COUNTERPOINT_TEST_* are the tests' own knobs)
for _name in list(os.environ):
    if _name.startswith(("COUNTERPOINT_", "DISCORD_", "REDDIT_")) and not _name.startswith("COUNTERPOINT_TEST_"):
        del os.environ[_name]

# nor the operator's per-user config and data folders (the cache folder stays: it holds the fetched embedded model)
_HOME = tempfile.mkdtemp(prefix="counterpoint-tests-")
atexit.register(shutil.rmtree, _HOME, True)
os.environ["XDG_CONFIG_HOME"] = os.path.join(_HOME, "config")
os.environ["XDG_DATA_HOME"] = os.path.join(_HOME, "data")


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path, monkeypatch):
    """Each test runs in its own folder, so a stray .env or data/ never leaks in or out."""
    monkeypatch.chdir(tmp_path)
    yield
