"""Thread summaries of any length: token-budgeted chunks, bounded map-reduce, incremental updates, offline fallback.

Flow of `Summarizer.summarize`: no model -> extractive summary. A stored summary that is not stale and whose
content hash still matches its covered range -> only the new messages plus that summary go to the model ("update"
calls, one per budget-full of new messages). Otherwise the thread is cut at message boundaries into chunks that
fit the context, each chunk is summarized ("map", at most `summarize.concurrency` at once), and the partial
summaries are merged ("reduce"), recursively while they exceed the budget. Failed chunks give a partial summary
with a note; when every chunk fails the extractive summary is returned instead. Every model call has a deadline.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import ConfigError, LLMError, StoreError, SummaryModelFailed
from bot.models import Post, Summary
from bot.settings import LLMSettings, Settings, SummarizeSettings
from bot.summary.budget import Budget, Budgeter, chunk_ranges
from bot.summary.format import (
    SECTIONS,
    SUMMARY_SCHEMA,
    Refs,
    WideRefs,
    content_hash,
    fit_items,
    merge,
    parse_summary,
    posts_block,
    render_items,
    summary_schema,
)
from bot.summary.grounding import ground

if TYPE_CHECKING:
    from bot.llm.client import JsonModel
    from bot.store import Store

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stage: "map" | "reduce" | "update", done, total)
Job = tuple[str, str, Refs]  # (prompt kind, data for the user message, the refs it shows)
PROMPTS = ("map", "reduce", "update")
SEQUENTIAL_UPDATES = 3  # up to this many update calls in a row beat mapping the new messages and reducing
OFFLINE_NOTE = "No model is available, so this is an extractive summary: key messages picked without a model."
UNGROUNDED_NOTE = (
    "The model's summary did not rest on the messages it cited, so this is an extractive summary: key messages "
    "picked without a model."
)


class Summarizer:
    """`Summarizer(settings.summarize, settings.llm, llm, store, prompts_dir=...)`, or `Summarizer.from_settings(
    settings, llm, store)`. From the [llm] section it reads the model's limits: context and reply tokens, deadline."""

    def __init__(
        self,
        config: SummarizeSettings,
        model: LLMSettings,
        llm: JsonModel | None,
        store: Store | None = None,
        *,
        prompts_dir: Path,
    ) -> None:
        self.config = config
        self.llm = llm
        self.store = store
        self._prompts = _load_prompts(prompts_dir)
        self._all_prompts = _prompt_texts(prompts_dir)  # no summary point may carry any of them
        self.tokens = Budgeter(config, model, llm, self._prompts.values())
        self._sem = asyncio.Semaphore(config.concurrency)
        self._deadline = model.deadline + 5.0  # backstop over the client's own deadline: never hang
        self.calls = 0  # model requests made by this instance
        self.tokens_sent = 0  # estimated prompt tokens sent

    @classmethod
    def from_settings(
        cls, settings: Settings, llm: JsonModel | None, store: Store | None = None, *, prompts_dir: Path | None = None
    ) -> Summarizer:
        folder = prompts_dir or settings.prompts_dir()
        return cls(settings.summarize, settings.llm, llm, store, prompts_dir=folder)

    async def summarize(self, posts: Sequence[Post], *, thread_id: str, progress: Progress | None = None) -> Summary:
        posts = [p for p in posts if p.text.strip()]
        if not posts:
            return Summary(thread_id, (), engine="none", note="There are no messages to summarize.")
        if not await self._model_ready():
            await self._count_fallback("no-model", posts)
            return await self._offline(posts, thread_id, OFFLINE_NOTE)
        await self.tokens.calibrate(posts, self._deadline)
        stored = await self._load(posts[0].platform, thread_id)
        try:
            summary = await self._incremental(stored, posts, thread_id, progress) if stored else None
            if summary is None:
                summary = await self._full(posts, thread_id, progress)
        except SummaryModelFailed as exc:
            note = f"The model failed on {exc}, so this is an extractive summary: key messages picked without a model."
            await self._count_fallback("model-error", posts)
            return await self._offline(posts, thread_id, note)
        checked = ground(summary, posts, self._all_prompts)
        if checked.dropped:
            log.warning("summary of %s: dropped %d of %d points (%s)", thread_id, checked.dropped,
                        checked.dropped + checked.kept, dict(checked.reasons))  # fmt: skip
        if checked.lost_too_much:
            await self._count_fallback(checked.main_reason, posts)
            return await self._offline(posts, thread_id, UNGROUNDED_NOTE)
        summary = checked.summary
        if not summary.partial:
            await self._save(posts, summary)
        return summary

    def budget(self) -> Budget:
        return self.tokens.budget()

    # ---- paths ----------------------------------------------------------------------------------------------

    async def _incremental(
        self, stored: Any, posts: list[Post], thread_id: str, progress: Progress | None
    ) -> Summary | None:
        prev: Summary = stored.summary
        if stored.stale or prev.engine != "llm" or prev.partial:
            return None
        ids = [p.post_id for p in posts]
        if stored.covered_until not in ids:
            return None  # the last covered message was deleted
        end = ids.index(stored.covered_until) + 1
        if content_hash(posts[:end]) != stored.content_hash:
            return None  # edited or deleted inside the covered range, even if nobody flagged it
        new = posts[end:]
        if not new:
            return prev
        result = await self._update(prev, new, thread_id, progress)
        if result is None:
            note = f"The model failed while adding the {len(new)} newest messages; this covers the earlier ones only."
            return replace(prev, partial=True, note=note)
        return replace(result, covered_until=new[-1].post_id, message_count=len(posts), note="")

    async def _update(
        self, prev: Summary, new: list[Post], thread_id: str, progress: Progress | None
    ) -> Summary | None:
        """Fold new messages into the summary: a few update calls in a row, or map-reduce when there are many."""
        chunk, count = self.budget().chunk, self.tokens.tokens
        costs, chars = self.tokens.sizes(new, chunk // 2)  # any line fits beside a summary of half the budget
        current = fit_items(prev, chunk // 2, count)
        steps = math.ceil(sum(costs) / (chunk - self._items_cost(current)))
        if steps > SEQUENTIAL_UPDATES:
            parts = await self._map(new, thread_id, progress)
            if any(p is None for p in parts):
                return None
            merged, _ = await self._reduce([current, *(p for p in parts if p)], thread_id, progress)
            return merged
        start = 0
        while start < len(new):
            current = fit_items(current, chunk // 2, count)
            room, used, end = chunk - self._items_cost(current), costs[start], start + 1
            while end < len(new) and used + costs[end] <= room:
                used, end = used + costs[end], end + 1
            refs = Refs()
            data = f"<summary>\n{render_items(current, refs)}\n</summary>\n" + posts_block(
                new[start:end], chars[start:end], refs
            )
            result = (await self._run_all([("update", data, refs)], thread_id, "update", progress))[0]
            if result is None:
                return None
            current, start = result, end
        return current

    async def _full(self, posts: list[Post], thread_id: str, progress: Progress | None) -> Summary:
        parts = await self._map(posts, thread_id, progress)
        ok = [p for p in parts if p is not None]
        failed = len(parts) - len(ok)
        if not ok:
            raise SummaryModelFailed(f"all {failed} parts of the thread")
        result, merge_failures = await self._reduce(ok, thread_id, progress)
        notes = []
        if failed:
            notes.append(f"The model failed on {failed} of {len(parts)} parts; this summary leaves those messages out.")
        if merge_failures:
            notes.append(f"{merge_failures} merge steps failed, so some sections were joined without the model.")
        return replace(
            result,
            covered_until=posts[-1].post_id,
            message_count=len(posts),
            partial=bool(failed),
            note=" ".join(notes),
        )

    async def _map(self, posts: list[Post], thread_id: str, progress: Progress | None) -> list[Summary | None]:
        chunk = self.budget().chunk
        costs, chars = self.tokens.sizes(posts, chunk)
        jobs: list[Job] = []
        for a, b in chunk_ranges(costs, chunk):
            refs = Refs()
            jobs.append(("map", posts_block(posts[a:b], chars[a:b], refs), refs))
        log.info("summarizing %d messages in %d chunks", len(posts), len(jobs))
        return await self._run_all(jobs, thread_id, "map", progress)

    async def _reduce(self, parts: list[Summary], thread_id: str, progress: Progress | None) -> tuple[Summary, int]:
        """Merge partial summaries, in groups that fit the budget, until one is left."""
        chunk, failures = self.budget().chunk, 0
        while len(parts) > 1:
            # each part fits half the budget, so any two fit together and every round shrinks the list
            parts = [fit_items(p, chunk // 2, self.tokens.tokens) for p in parts]
            groups = chunk_ranges([self._items_cost(p) + 4 for p in parts], chunk)
            jobs = [_reduce_job(parts[a:b]) for a, b in groups if b - a > 1]
            results = iter(await self._run_all(jobs, thread_id, "reduce", progress))
            merged: list[Summary] = []
            for a, b in groups:
                result = next(results) if b - a > 1 else parts[a]
                failures += result is None
                merged.append(result or merge(parts[a:b], thread_id=thread_id))
            parts = merged
        return parts[0], failures

    def _items_cost(self, summary: Summary) -> int:
        """Tokens a summary adds to a request: its compact lines, and its refs in the schema's id enums."""
        cited = {i for name in SECTIONS for item in getattr(summary, name) for i in item.source_ids}
        return self.tokens.tokens(render_items(summary, WideRefs())) + self.tokens.ref_cost() * len(cited)

    async def _offline(self, posts: list[Post], thread_id: str, note: str) -> Summary:
        # imported here: scikit-learn and SciPy cost ~60 MB and a second of start-up, paid only when an offline
        # summary is made; TF-IDF over thousands of messages takes a moment, so it runs off the event loop
        from bot.summary.extractive import extractive_summary

        return await asyncio.to_thread(extractive_summary, posts, thread_id=thread_id, note=note)

    # ---- model calls ----------------------------------------------------------------------------------------

    async def _run_all(
        self, jobs: list[Job], thread_id: str, stage: str, progress: Progress | None
    ) -> list[Summary | None]:
        done = 0

        async def one(kind: str, data: str, refs: Refs) -> Summary | None:
            nonlocal done
            result = await self._ask(kind, data, refs, thread_id)
            done += 1
            if progress:
                progress(stage, done, len(jobs))
            return result

        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(one(*job)) for job in jobs]
        return [t.result() for t in tasks]

    async def _ask(self, kind: str, data: str, refs: Refs, thread_id: str) -> Summary | None:
        assert self.llm is not None
        messages = [{"role": "system", "content": self._prompts[kind]}, {"role": "user", "content": data}]
        async with self._sem:
            self.calls += 1
            self.tokens_sent += self.tokens.tokens(self._prompts[kind]) + self.tokens.tokens(data)
            try:
                async with asyncio.timeout(self._deadline):
                    # the grammar may cite only the refs this request showed; the reply is checked loosely
                    reply = await self.llm.chat_json(
                        messages,
                        summary_schema(refs.shown()),
                        name="summary",
                        max_tokens=self.budget().out,
                        accept=SUMMARY_SCHEMA,
                    )
            except (LLMError, TimeoutError) as exc:
                log.warning("summary %s call failed: %s", kind, exc or type(exc).__name__)
                return None
        summary = parse_summary(reply, refs=refs, thread_id=thread_id)
        if summary is None:
            log.warning("summary %s call returned no usable summary", kind)
        return summary

    async def _count_fallback(self, reason: str, posts: Sequence[Post]) -> None:
        """Every fall back to the extractive summary is logged and counted for /stats, with why."""
        log.warning("summary of %s: extractive fallback (%s)", posts[0].thread_id, reason)
        if self.store is None:
            return
        try:
            await self.store.record_fallback("summary", reason, scope=posts[0].scope)
        except StoreError as exc:
            log.warning("could not count the summary fallback: %s", exc)

    async def _model_ready(self) -> bool:
        if self.llm is None:
            return False
        try:
            async with asyncio.timeout(self._deadline):
                return bool(await self.llm.available())
        except (LLMError, TimeoutError):
            return False

    # ---- store ----------------------------------------------------------------------------------------------

    async def _load(self, platform: str, thread_id: str) -> Any | None:
        if self.store is None:
            return None
        try:
            return await self.store.get_summary(platform, thread_id)
        except StoreError as exc:
            log.warning("cannot read the stored summary of %s: %s", thread_id, exc)
            return None

    async def _save(self, posts: list[Post], summary: Summary) -> None:
        if self.store is None or summary.engine != "llm":
            return
        ids = [p.post_id for p in posts]
        end = ids.index(summary.covered_until) + 1 if summary.covered_until in ids else len(posts)
        try:
            await self.store.save_summary(
                posts[0].platform,
                summary.thread_id,
                summary,
                covered_until=summary.covered_until,
                content_hash=content_hash(posts[:end]),
            )
        except StoreError as exc:
            log.warning("cannot store the summary of %s: %s", summary.thread_id, exc)


def _reduce_job(parts: Sequence[Summary]) -> Job:
    refs = Refs()
    body = "\n\n".join(f"Part {i}:\n{render_items(p, refs)}" for i, p in enumerate(parts, 1))
    return ("reduce", f"<partials>\n{body}\n</partials>", refs)


def _prompt_texts(folder: Path) -> tuple[str, ...]:
    """Every prompt text of the bot (summaries, counterpoints, the framing judge): none may leak into a summary."""
    return tuple(path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.md")))


def _load_prompts(folder: Path) -> dict[str, str]:
    prompts = {}
    for name in PROMPTS:
        path = folder / f"summary_{name}.md"
        try:
            prompts[name] = path.read_text(encoding="utf-8").strip()
        except OSError:
            raise ConfigError(f"Prompt file {path} is missing or unreadable.") from None
    return prompts
