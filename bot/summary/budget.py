"""Token budgets for summary requests: count (the server's tokenizer when it has one, else a conservative
estimate), size chunks against the model's context, cut threads at message boundaries."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.errors import ConfigError, LLMError
from bot.models import Post
from bot.settings import LLMSettings, SummarizeSettings
from bot.summary.format import MAX_POST_CHARS, WideRefs, format_post, posts_block, summary_schema
from bot.text.limits import estimate_tokens

if TYPE_CHECKING:
    from bot.llm.client import JsonModel

SUMMARY_OUT_TOKENS = 1024  # a full four-section JSON reply; settings.llm.max_tokens is sized for short replies
WRAPPER_TOKENS = 64  # chat template, role markers and our tags
MARGIN = 1.1  # on top of the server's own count: templates and special tokens
SAMPLE_CHARS = 12_000


@dataclass(frozen=True, slots=True)
class Budget:
    chunk: int  # tokens of data (posts or partial summaries) in one request
    out: int  # max tokens of one reply


def chunk_ranges(costs: Sequence[int], budget: int) -> list[tuple[int, int]]:
    """Greedy cut at message boundaries: [start, end) ranges whose costs add up to at most `budget`.
    A single item over the budget gets a range of its own (the caller truncates such items first)."""
    ranges: list[tuple[int, int]] = []
    start, used = 0, 0
    for i, cost in enumerate(costs):
        if i > start and used + cost > budget:
            ranges.append((start, i))
            start, used = i, 0
        used += cost
    if start < len(costs):
        ranges.append((start, len(costs)))
    return ranges


class Budgeter:
    def __init__(
        self, config: SummarizeSettings, model: LLMSettings, llm: JsonModel | None, prompts: Iterable[str]
    ) -> None:
        self._config, self._model = config, model
        self._llm = llm
        self._prompts = tuple(prompts)
        self._ratio: float | None = None  # server tokens per estimated token, once measured
        self._budget: Budget | None = None

    def tokens(self, text: str) -> int:
        return math.ceil(estimate_tokens(text) * (self._ratio or 1.0))

    def budget(self) -> Budget:
        if self._budget is None:
            self._budget = self._compute()
        return self._budget

    def _compute(self) -> Budget:
        llm_cfg, cfg = self._model, self._config
        out = min(max(llm_cfg.max_tokens, SUMMARY_OUT_TOKENS), llm_cfg.context_tokens // 4)
        # the client adds the schema to the system prompt; each shown ref adds to its id enums (see ref_cost)
        schema = self.tokens(json.dumps(summary_schema([])))
        overhead = max(map(self.tokens, self._prompts)) + schema + WRAPPER_TOKENS
        derived = llm_cfg.context_tokens - out - overhead
        chunk = min(cfg.chunk_tokens, derived) if cfg.chunk_tokens else derived
        if chunk < 64:
            raise ConfigError(
                f"llm.context_tokens = {llm_cfg.context_tokens} leaves no room for messages in a summary request."
            )
        return Budget(chunk=chunk, out=out)

    async def calibrate(self, posts: Sequence[Post], deadline: float) -> None:
        """Ask the server to count a sample once; keep a margin. Without a count the estimate stands."""
        count = getattr(self._llm, "count_tokens", None)
        if self._ratio is not None or count is None:
            return
        sample = posts_block(posts[:60], [MAX_POST_CHARS] * len(posts[:60]), WideRefs())[:SAMPLE_CHARS]
        try:
            async with asyncio.timeout(deadline):
                real = await count(sample)
        except (LLMError, TimeoutError):
            real = None
        estimated = self.tokens(sample)
        self._ratio = min(max(real / estimated * MARGIN, 0.25), 4.0) if real and estimated else 1.0
        self._budget = None

    def ref_cost(self) -> int:
        """Tokens one shown ref adds to the request's schema: an entry in the id enum."""
        return self.tokens('"9999", ')

    def sizes(self, posts: Sequence[Post], limit: int) -> tuple[list[int], list[int]]:
        """(token cost, characters kept) per post as a prompt line. A line over `limit` tokens is truncated (whole
        characters), never split. Costs are measured with 4-digit refs, so real lines never cost more."""
        costs, chars = [], []
        for post in posts:
            keep = MAX_POST_CHARS
            cost = self._line_cost(post, keep)
            while cost > limit and keep > 20:
                keep = int(keep * limit / cost * 0.9)
                cost = self._line_cost(post, keep)
            costs.append(cost)
            chars.append(keep)
        return costs, chars

    def _line_cost(self, post: Post, keep: int) -> int:
        line = format_post(post, "9999", "earlier" if post.parent_id else None, keep)
        return self.tokens(line) + 1 + self.ref_cost()
