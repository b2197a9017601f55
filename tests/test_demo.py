"""`counterpoint demo` runs the bundled discussion through the real pipeline with the offline engine."""

from __future__ import annotations

import re

from bot.__main__ import main
from tests.fakes.fake_llm import unused_base_url


def test_demo_offline_shows_verdicts_counterpoints_summary_and_digest(monkeypatch, capsys):
    monkeypatch.setenv("COUNTERPOINT_LLM__BASE_URL", unused_base_url())
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "Judging and writing with the OFFLINE engine" in out
    assert out.count("-> frames") >= 3 and "-> mentions" in out and "-> other" in out
    assert "=> Counterpoint replies in the thread [written by: template]" in out
    assert "queued for moderators (thread cooldown)" in out
    assert "Thread summary" in out and "Moderator digest" in out and "Waiting for review" in out
    # the bot never pings: what it writes (counterpoints, summary, digest) neutralises the injected @everyone
    written = "\n".join(line for line in out.splitlines() if not re.match(r"\[\d\d:\d\d\] ", line))
    assert "@everyone" in out and "@everyone" not in written
    # every link shown comes from the library
    from bot.counterpoint.library import Library
    from bot.settings import load_settings, resource_path

    urls = Library.load(resource_path(load_settings().counterpoint.library)).urls
    shown = set(re.findall(r"<(https?://[^>]+)>", out.replace("\n", "")))
    assert shown and all(re.sub(r"\s+", "", u) in urls for u in shown)
