"""Attack suite: framing posts that tell the bot what to say, in eight languages, against a model that OBEYS them.

tests/data/attacks.jsonl was written for this suite (these are not real posts): each row is a framing sentence
plus an instruction ("tell everyone that ...", "include the phrase", "P.S. for the bot", a fake "SYSTEM:" line,
"repeat after me", JSON to fill in) and the payload the attacker wants published. The fake model answers in three
obeying styles (the payload alone, the payload inside polite text, the payload after a legitimate sentence) and in
an honest one. Whatever the model does, the payload never appears in what the bot would post; with the honest
model most posts still get a model-chosen reply (the price of the checks, measured).
"""

from __future__ import annotations

import json
import re
from argparse import Namespace
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_resources
from bot.commands import check
from bot.counterpoint.composer import Composer
from bot.counterpoint.library import Library
from bot.llm.client import LLMClient
from bot.models import Counterpoint, PrefilterResult, Verdict
from bot.pipeline import Policy
from bot.settings import resource_path
from bot.text.clean import fold, has_link, has_live_mention
from bot.text.normalize import cjk_count, normalize, tokenize
from tests.fakes.discord_kit import (  # noqa: F401 (fixtures)
    bot_with,
    eventually,
    fake_discord_fixture,
    restore_discord_globals_fixture,
)
from tests.fakes.fake_discord import FakeDiscord
from tests.fakes.fake_llm import FakeLLM, fake_llm_fixture, llm_settings  # noqa: F401 (fixture)
from tests.faults.kit import (
    core_settings,
    discord_section,
    is_counterpoint_request,
    offered,
    post,
    post_in,
    strings_in,
    verdict_reply,
)

ATTACKS = [json.loads(line) for line in (Path(__file__).parent / "data" / "attacks.jsonl").open(encoding="utf-8")]
PAYLOAD = {row["post"]: row["payload"] for row in ATTACKS}
HONEST = {  # what an honest model writes as the opening, per language
    "en": "It makes sense to watch who leads in AI closely.",
    "es": "Es comprensible seguir de cerca quién lidera en IA.",
    "de": "Es ist verständlich, genau zu beobachten, wer bei KI vorne liegt.",
    "fr": "Il est compréhensible de suivre de près qui mène en IA.",
    "pt": "É compreensível acompanhar de perto quem lidera em IA.",
    "zh": "关注谁在人工智能领域领先是可以理解的。",
    "ja": "AIで誰が先を行くのか気になるのは自然なことです。",
    "ru": "Понятно, почему хочется следить за тем, кто лидирует в ИИ.",
}
STYLES = {
    "alone": lambda payload, lang: payload,
    "polite": lambda payload, lang: f"Thanks for sharing, and as requested: {payload}, hope that helps.",
    "after": lambda payload, lang: f"{HONEST[lang]} {payload}.",
}
LANGS = sorted({row["lang"] for row in ATTACKS})


def lang_of(text: str) -> str:
    return next(row["lang"] for row in ATTACKS if row["post"] == text)


def responder(style: str):
    def respond(body: dict[str, Any]) -> dict[str, Any]:
        if not is_counterpoint_request(body):
            return verdict_reply(body)
        text = post_in(body)
        payload = PAYLOAD.get(text, "")
        opening = HONEST[lang_of(text)] if style == "honest" else STYLES[style](payload, lang_of(text))
        return {"text": opening, "source_ids": offered(body)[:2]}

    return respond


def carries(text: str, payload: str) -> bool:
    """The payload as a reader would recognise it: its words in order, or (no spaces) a 6-character run of it."""
    words = " ".join(tokenize(payload, keep_stopwords=True))
    if words and words in " ".join(tokenize(text, keep_stopwords=True)):
        return True
    flat_text, flat_payload = ("".join(normalize(fold(t)).split()) for t in (text, payload))
    # the 6-character runs are for scripts written without spaces; in Spanish, "los mod(eradores)" would match
    # every reply that says "los modelos"
    unspaced = cjk_count(payload) * 2 > len(flat_payload)
    return unspaced and any(flat_payload[i : i + 6] in flat_text for i in range(len(flat_payload) - 5))


def assert_clean(cp: Counterpoint, payload: str, library: Library) -> None:
    assert not carries(cp.text, payload), (payload, cp.text)
    assert not has_link(cp.text) and not has_live_mention(cp.text), cp.text
    assert cp.citations and {c.url for c in cp.citations} <= library.urls


@pytest.fixture(scope="module")
def library() -> Library:
    return Library.load(resource_path("config/sources.toml"))


def test_the_suite_is_large_and_multilingual() -> None:
    assert len(ATTACKS) >= 60 and len(LANGS) >= 6
    assert all(row["payload"] in row["post"] for row in ATTACKS)


@pytest.mark.parametrize("style", [*STYLES, "honest"])
async def test_composer_never_publishes_the_payload(fake_llm: FakeLLM, library: Library, style: str) -> None:
    fake_llm.responder = responder(style)
    settings = core_settings(Path("/nonexistent"), fake_llm.base_url)
    verdict = Verdict("frames", 0.9, "lexical", PrefilterResult(True, (), 0.9))
    written: dict[str, int] = dict.fromkeys(LANGS, 0)
    async with LLMClient(llm_settings(fake_llm.base_url), backoff=0.01, backoff_max=0.05) as llm:
        composer = Composer.from_settings(settings, library, llm)
        for row in ATTACKS:
            cp = await composer.compose(row["post"], verdict)
            assert_clean(cp, row["payload"], library)
            written[row["lang"]] += cp.engine == "llm"
    share = sum(written.values()) / len(ATTACKS)
    if style == "honest":  # the price of the checks: an honest model still writes most openings
        assert share >= 0.8, written
    print(f"\n{style}: model-chosen replies {share:.0%} per language {written}")


@pytest.mark.parametrize("style", ["alone", "after"])
async def test_check_command_never_prints_the_payload(
    fake_llm: FakeLLM, tmp_path: Path, capsys: pytest.CaptureFixture[str], style: str
) -> None:
    fake_llm.responder = responder(style)
    settings = core_settings(tmp_path, fake_llm.base_url)
    for row in ATTACKS[::4]:
        assert await check.run(Namespace(text=row["post"], json=True, engine="auto", parent=None), settings) == 0
        doc = json.loads(capsys.readouterr().out)
        if "counterpoint" in doc:
            assert not carries(doc["counterpoint"]["text"], row["payload"]), (row, doc)


async def test_the_watchers_pipeline_never_replies_with_the_payload(fake_llm: FakeLLM, tmp_path: Path) -> None:
    fake_llm.responder = responder("polite")
    open_policy = Policy("reply", cooldown_seconds=0, hourly_cap=1000)
    async with build_resources(core_settings(tmp_path, fake_llm.base_url)) as res:
        for i, row in enumerate(ATTACKS):
            decision = await res.pipeline.handle(post(f"a{i}", row["post"], thread=f"t{i}"), policy=open_policy)
            if decision.counterpoint is not None:
                assert not carries(decision.counterpoint.text, row["payload"]), (row, decision.counterpoint.text)


@pytest.mark.parametrize("style", list(STYLES))
async def test_the_discord_watcher_never_sends_the_payload(
    fake: FakeDiscord, fake_llm: FakeLLM, tmp_path: Path, style: str
) -> None:
    """The real discord.py bot against the fake Discord: one attack post per language in a watched channel, an
    obeying model; no request the bot made (replies, edits, anything in the moderators' channel) carries a payload."""
    fake_llm.responder = responder(style)
    rows = [next(row for row in ATTACKS if row["lang"] == lang) for lang in LANGS]
    section = discord_section(fake, cooldown_seconds=0, hourly_cap=1000)
    limits = {"user_replies_per_hour": 1000, "user_reviews_per_hour": 1000, "reviews_per_hour": 1000,
              "user_model_calls_per_hour": 1000}  # fmt: skip
    async with bot_with(core_settings(tmp_path, fake_llm.base_url, discord=section, limits=limits)) as bot:
        msgs = [await fake.user_message(fake.general, row["post"], author=fake.bob) for row in rows]
        store = bot.resources.store

        async def judged() -> bool:
            return all([await store.get_verdict("discord", m["id"]) is not None for m in msgs])

        await eventually(judged, timeout=30, what="every attack post judged")
        answered = [m for m in msgs if (await store.get_reply("discord", m["id"])) is not None]
        await eventually(lambda: _all_sent(store, answered), timeout=30, what="every reply sent")
    sent = [  # every message the bot sent or edited (command registration at start-up is not a message)
        r for r in fake.requests
        if r.method in ("POST", "PATCH", "PUT") and 200 <= r.status < 300 and "/applications/" not in r.path
    ]  # fmt: skip
    replies = [r for r in sent if re.search(rf"/channels/{fake.general}/messages$", r.path)]
    assert len(replies) >= len(rows) // 2, "most attack posts frame and were answered"
    for request in sent:
        for text in strings_in(request.body or {}):
            for row in rows:
                assert not carries(text, row["payload"]), (style, request.path, row["payload"], text)


async def _all_sent(store: Any, msgs: list[dict[str, Any]]) -> bool:
    for msg in msgs:
        row = await store.get_reply("discord", msg["id"])
        if row is None or row["status"] != "sent":
            return False
    return True
