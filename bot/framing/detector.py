"""Framing detector: does a post frame AI as a US-vs-China contest?

    prefilter (pure, fast, multilingual) -> model judge (one JSON call) | offline lexical engine -> Verdict

Only posts that pass the prefilter cost a model call. `auto` uses the model while it is healthy and falls back to
the lexical engine by itself, with a log line, never an exception: with the model down the bot stays quiet
rather than wrong, because the lexical engine is precision-first. Once `counterpoint calibrate` has measured the
configured model (bot/framing/calibration.py), `auto` follows its choice: offline only, the model confirming
offline candidates, or the model alone, whichever was at least as precise as offline and best overall.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import LLMError
from bot.framing import calibration
from bot.framing.calibration import model_key
from bot.framing.judge import VERDICT_SCHEMA, FramingPrompt, few_shot_messages, verdict_from_reply
from bot.framing.lexical import lexical_verdict, prefilter, widen
from bot.models import PrefilterResult, Verdict
from bot.settings import FramingSettings, Settings

if TYPE_CHECKING:
    from bot.llm.client import JsonModel

log = logging.getLogger(__name__)

VERDICT_TOKENS = 256  # label + confidence + a <=300-char quote and reason fit with room to spare


class Detector:
    """`await Detector(settings.framing, llm, prompts_dir=..., model="<model key>").detect(text)` -> Verdict, or
    `Detector.from_settings(settings, llm)`. `llm` may be None (lexical only). `model` names the configured model
    (calibration.model_key), so a calibration measured for another model is not followed."""

    def __init__(self, framing: FramingSettings, llm: JsonModel | None, *, prompts_dir: Path, model: str) -> None:
        self.framing = framing
        self.llm = llm
        self.prompt = FramingPrompt.load(prompts_dir) if llm is not None else None  # fail fast on a broken prompt
        self.calls = 0  # model calls attempted
        self.fallbacks = 0  # model calls that failed and were answered by the lexical engine
        # which engine decides in `auto`, as measured by `counterpoint calibrate` for this very model
        self.calibration = calibration.load() if llm is not None else None
        if self.calibration and self.calibration.model != model:
            self.calibration = None
        self.examples = []
        if self.calibration and self.calibration.few_shot:  # the bundled set loads only for a model that wants it
            from bot.framing.bundled import framing_items

            self.examples = few_shot_messages(framing_items())

    @classmethod
    def from_settings(
        cls, settings: Settings, llm: JsonModel | None, prompts_dir: str | Path | None = None
    ) -> Detector:
        folder = Path(prompts_dir) if prompts_dir else settings.prompts_dir()
        return cls(
            settings.framing, llm, prompts_dir=folder, model=model_key(settings.llm.base_url, settings.llm.model)
        )

    def auto_engine(self) -> str:
        """What `auto` does with a healthy model: the calibrated choice. Uncalibrated, the model only confirms the
        offline engine's candidates: an unmeasured model may veto a reply but never adds one, so `auto` is never
        less precise than offline (a 135M model that calls nearly everything "frames" measured 0.82 alone)."""
        return self.calibration.engine if self.calibration else "confirm"

    def describe(self) -> str:
        """Which engine decides and why, in one line (/stats); a model that is down is answered offline meanwhile."""
        return calibration.explain(self.framing.engine, self.calibration, has_model=self.llm is not None)

    async def detect(self, text: str, *, parent: str | None = None, engine: str | None = None) -> Verdict:
        if not text or not text.strip():
            return Verdict("other", 1.0, "lexical", PrefilterResult(False), reason="empty text")
        cfg = self.framing
        mode = engine or cfg.engine
        parent = parent if cfg.use_parent and parent and parent.strip() else None
        pf = prefilter(text)
        if parent:
            pf = widen(pf, text, parent)
        if mode == "lexical" or self.llm is None or self.prompt is None or not pf.passed:
            return self._lexical(text, pf, parent)
        if mode == "auto" and not await self.llm.available():
            log.debug("framing: model unavailable, lexical engine")
            return self._lexical(text, pf, parent)
        if mode == "auto" and self.auto_engine() != "llm":
            offline = self._lexical(text, pf, parent)
            if self.auto_engine() == "lexical" or not offline.frames:
                return offline  # calibrated: the model only ever confirms offline candidates, or is not asked
        return await self._judge(text, pf, parent)

    async def _judge(self, text: str, pf: PrefilterResult, parent: str | None) -> Verdict:
        assert self.llm is not None and self.prompt is not None
        cfg = self.framing
        self.calls += 1
        try:
            messages = self.prompt.messages(text, parent)
            messages[1:1] = self.examples
            reply = await self.llm.chat_json(messages, VERDICT_SCHEMA, name="framing", max_tokens=VERDICT_TOKENS)
            return verdict_from_reply(reply, text, pf, threshold=cfg.llm_threshold)
        except LLMError as exc:
            self.fallbacks += 1
            log.warning(
                "framing: model call failed (%s: %s); answering with the lexical engine", type(exc).__name__, exc
            )
            verdict = self._lexical(text, pf, parent)
            return replace(verdict, reason=f"model failed ({type(exc).__name__}); {verdict.reason}")

    def _lexical(self, text: str, pf: PrefilterResult, parent: str | None = None) -> Verdict:
        return lexical_verdict(text, threshold=self.framing.lexical_threshold, pf=pf, parent=parent)
