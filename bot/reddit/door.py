"""The Reddit front door's logic, without praw: watch loop, checkpoints, modes, replies, 403s, backoff.

Streams and checkpoints: each subreddit has two streams (submissions, comments) and one checkpoint each,
`reddit:<sub>:<kind>` = the newest handled item (fullname + created_utc). A new stream starts from it
(`continue_after_id`), and every item is compared with it by (created_utc, base36 id), so a restart neither
reprocesses what was handled nor skips what arrived meanwhile, within the ~1000 items Reddit still lists. With no
checkpoint at all (first run) the existing items are skipped and only the newest is remembered.

A 403 on a subreddit disables it (`reddit:<sub>:disabled` = reason) and tells the moderators once; the refusal's
reason and time stay in `reddit:<sub>:refused` (JSON), also after a moderator re-enables the subreddit with
`/reddit enable`, which makes the next pass poll it again. `/reddit disable` turns one off by hand. Other Reddit
errors back off exponentially per subreddit and never stop the loop.

Limits (the pipeline applies them: per-submission cooldown, per-subreddit hourly cap, per-author limits): framing
posts past the moderators' limits are not queued; after each pass over a subreddit the moderators get ONE line
per author for them, and no second line for the same author and subreddit within the hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from bot.errors import (
    RedditAuthError,
    RedditError,
    RedditForbidden,
    RedditNotFound,
    RedditUncertain,
)
from bot.models import Decision, Post, Thread, utcnow
from bot.reddit.convert import EMPTY, Bookmark, is_optout
from bot.reddit.render import render_reply
from bot.summary.reddit_items import order_key

if TYPE_CHECKING:
    from bot.pipeline import Pipeline
    from bot.settings import Settings
    from bot.store import Store

log = logging.getLogger(__name__)

Notify = Callable[[str], Awaitable[None]]
OnQueued = Callable[[Decision], Awaitable[None]]
KINDS = ("submissions", "comments")  # submissions first, so a new thread's text is stored before its comments
MAX_BACKOFF = 900.0
RECHECK_SECONDS = 300.0  # how often items seen lately are re-read, to catch edits and deletions
RECHECK_WINDOW = 24 * 3600.0  # items seen within this long are re-read
RECHECK_MAX = 500  # items per re-read: at most 5 /api/info requests every RECHECK_SECONDS
FLOOD_WINDOW = 3600.0  # one flood line per author and subreddit per hour


class ClientLike(Protocol):
    username: str

    async def poll(self, sub: str, kind: str, *, after: str | None) -> list[Post]: ...
    async def reply(self, target: str, body: str) -> str: ...
    async def fetch_thread(self, url: str) -> tuple[Thread, list[Post]]: ...
    async def recheck(self, fullnames: list[str]) -> dict[str, str | None]: ...
    async def aclose(self) -> None: ...


def disabled_key(sub: str) -> str:
    return f"reddit:{sub.lower()}:disabled"


def refused_key(sub: str) -> str:
    return f"reddit:{sub.lower()}:refused"


@dataclass(frozen=True, slots=True)
class SubredditStatus:
    """What /reddit status shows for one configured subreddit."""

    name: str
    enabled: bool
    reason: str = ""  # why it is off
    refused_reason: str = ""  # the last time Reddit refused it (403/404), even if re-enabled since
    refused_at: datetime | None = None


class DoorResources(Protocol):
    """What the door takes from the composition root (bot.app.Resources has it): the settings (the door keeps
    [reddit], the client reads the credentials), the store and the pipeline."""

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> Store: ...

    @property
    def pipeline(self) -> Pipeline: ...


class RedditDoor:
    def __init__(
        self,
        resources: DoorResources,
        client: ClientLike,
        *,
        notify: Notify | None = None,
        on_queued: OnQueued | None = None,
    ) -> None:
        self.config, self.store, self.pipeline = resources.settings.reddit, resources.store, resources.pipeline
        self.client = client
        self._notify, self._on_queued = notify, on_queued
        self.subreddits = list(
            dict.fromkeys(s.strip().removeprefix("r/").lower() for s in self.config.subreddits if s.strip())
        )
        self._marks: dict[tuple[str, str], Bookmark | None] = {}
        self._disabled: dict[str, str] = {}
        self._failures: dict[str, int] = {}
        self._resume_at: dict[str, float] = {}
        self._sending: set[str] = set()
        self._told: set[str] = set()
        self._seen: dict[str, float] = {}  # fullname -> when it was handled (loop time), oldest first
        self._next_recheck = 0.0
        self.recheck_every = RECHECK_SECONDS
        self._floods: dict[tuple[str, str], list[float | int | str]] = {}  # (sub, author) -> [start, count, told]
        self.cycles = 0  # completed passes over the subreddits (tests and health checks read it)

    # --- the watcher ----------------------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Watch until `stop` is set. Never raises for Reddit trouble: it logs, backs off and keeps going."""
        if not self.subreddits:
            log.warning("Reddit: no subreddits to watch (reddit.subreddits is empty); replies and summaries still work")
            await stop.wait()
            return
        await self._load()
        log.info(
            "Reddit: watching %s as u/%s",
            ", ".join(f"r/{s}" for s in self.subreddits),
            self.client.username or "(read-only)",
        )
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            for sub in self.subreddits:
                if stop.is_set():
                    break
                if sub not in self._disabled and self._resume_at.get(sub, 0.0) <= loop.time():
                    await self._cycle(sub)
                    await self._report_floods(sub)
            if self._seen and loop.time() >= self._next_recheck:
                self._next_recheck = loop.time() + self.recheck_every
                await self.recheck()
            self.cycles += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.config.poll_seconds)

    async def _load(self) -> None:
        for sub in self.subreddits:
            reason = await self.store.get_checkpoint(disabled_key(sub))
            if reason:
                self._disabled[sub] = reason
                log.warning("Reddit: r/%s stays disabled (%s)", sub, reason)
            for kind in KINDS:
                self._marks[(sub, kind)] = Bookmark.loads(await self.store.get_checkpoint(f"reddit:{sub}:{kind}"))

    async def _cycle(self, sub: str) -> None:
        try:
            for kind in KINDS:
                await self._poll(sub, kind)
        except (RedditForbidden, RedditNotFound) as exc:
            await self.disable(sub, str(exc))
        except RedditError as exc:
            self._back_off(sub, exc)
            if isinstance(exc, RedditAuthError):
                await self._tell_once("auth", f"Reddit: {exc}. I keep retrying with backoff.")
        else:
            self._failures.pop(sub, None)

    def _back_off(self, sub: str, exc: RedditError) -> None:
        n = self._failures[sub] = self._failures.get(sub, 0) + 1
        delay = min(MAX_BACKOFF, self.config.poll_seconds * 2**n) * random.uniform(0.75, 1.0)
        self._resume_at[sub] = asyncio.get_running_loop().time() + delay
        log.warning("Reddit: r/%s failed %d time(s) in a row (%s); next try in %.1f s", sub, n, exc, delay)

    async def _poll(self, sub: str, kind: str) -> None:
        if sub in self._disabled:
            return
        mark = self._marks.get((sub, kind))
        posts = sorted(await self.client.poll(sub, kind, after=mark.fullname if mark else None), key=order_key)
        if mark is None:  # first run: what is already there is history, not news
            await self._save(sub, kind, Bookmark.of(posts[-1]) if posts else EMPTY)
            log.info("Reddit: first look at r/%s %s; %d existing item(s) skipped", sub, kind, len(posts))
            return
        for post in posts:
            if mark.precedes(post):
                await self._handle(sub, post)
                self._remember(post)
                mark = Bookmark.of(post)
                await self._save(sub, kind, mark)

    async def recheck(self) -> int:
        """Re-read the items handled lately (the newest RECHECK_MAX within RECHECK_WINDOW) and bring the store in
        line: a deleted or removed item loses its text and every copy, an edited one gets its new text; either
        marks a summary covering it stale, as Discord's delete and edit events do. Returns the items changed."""
        now = asyncio.get_running_loop().time()
        for name, seen in list(self._seen.items()):
            if now - seen > RECHECK_WINDOW:
                del self._seen[name]
        names = list(self._seen)[-RECHECK_MAX:]
        try:
            current = await self.client.recheck(names)
        except RedditError as exc:
            log.warning("Reddit: could not re-check %d recent item(s) for edits and deletions: %s", len(names), exc)
            return 0
        changed = 0
        for name, text in current.items():
            if text is None:
                changed += await self.store.delete_post("reddit", name)
                self._seen.pop(name, None)
            else:
                changed += await self.store.edit_post("reddit", name, text)
        if changed:
            log.info("Reddit: %d recent item(s) were edited or deleted since they were read", changed)
        return changed

    def _remember(self, post: Post) -> None:
        self._seen.pop(post.post_id, None)
        self._seen[post.post_id] = asyncio.get_running_loop().time()
        while len(self._seen) > 4 * RECHECK_MAX:
            del self._seen[next(iter(self._seen))]

    async def _save(self, sub: str, kind: str, mark: Bookmark) -> None:
        self._marks[(sub, kind)] = mark
        await self.store.set_checkpoint(f"reddit:{sub}:{kind}", mark.dumps())

    async def _handle(self, sub: str, post: Post) -> None:
        """One item through the pipeline. The watcher's error boundary: a failure here is logged, never fatal."""
        try:
            if post.post_id.startswith("t1_") and is_optout(post.text):
                await self._opt_out(post)
                return
            policy = await self.pipeline.policy("reddit", "", sub)
            decision = await self.pipeline.handle(post, policy=policy, parent_text=await self._parent_text(post))
            if decision.action == "reply":
                await self._reply_quietly(decision)
            elif decision.action == "queue" and self._on_queued is not None:
                await self._on_queued(decision)
            elif decision.flood:
                self._flooded(sub, post)
        except Exception:
            log.exception("Reddit: handling %s failed", post.post_id)

    def _flooded(self, sub: str, post: Post) -> None:
        now = asyncio.get_running_loop().time()
        key = (sub, post.author_name or post.author_id)
        flood = self._floods.get(key)
        if flood is None or now - float(flood[0]) > FLOOD_WINDOW:
            flood = self._floods[key] = [now, 0, ""]
        flood[1] = int(flood[1]) + 1

    async def _report_floods(self, sub: str) -> None:
        """One line per author whose framing posts were not queued in this pass (and none told this hour)."""
        for (where, author), flood in list(self._floods.items()):
            if where != sub or flood[2]:
                continue
            flood[2] = "told"
            await self._tell(f"{flood[1]} more framing posts from u/{author} in r/{sub} were not queued: flood limit.")

    async def _opt_out(self, post: Post) -> None:
        if post.author_is_bot or post.author_id in ("", "[deleted]"):
            return
        if await self.store.opt_out("reddit", post.author_id):
            log.info("Reddit: an author opted out with !optout (%s)", post.post_id)

    async def _parent_text(self, post: Post) -> str | None:
        if not post.parent_id:
            return None
        parent = await self.store.get_post("reddit", post.parent_id)
        return parent.text if parent else None

    async def _reply_quietly(self, decision: Decision) -> None:
        try:
            await self.reply(decision)
        except RedditError as exc:
            log.warning("Reddit: the reply to %s was not posted: %s", decision.post.post_id, exc)

    # --- called by the Discord side -------------------------------------------------------------------------------
    async def reply(self, decision: Decision) -> str:
        """Post decision.counterpoint as a reply to decision.post and record it; returns the new comment's fullname.

        The decision must hold a claim (Pipeline.handle's "reply" or Pipeline.approve). Records Pipeline.sent on
        success and Pipeline.failed on a definite failure; raises RedditError (str() is one sentence for the
        moderator). RedditUncertain keeps the claim: the reply may exist, so it is never sent again."""
        post, cp = decision.post, decision.counterpoint
        if post.platform != "reddit" or cp is None:
            raise ValueError(f"not a Reddit decision with a counterpoint: {post.platform}/{post.post_id}")
        done = await self.store.get_reply("reddit", post.post_id)
        if done and done.get("status") == "sent" and done.get("reply_id"):
            return str(done["reply_id"])
        if post.post_id in self._sending:
            raise RedditError("this reply is being posted right now")
        self._sending.add(post.post_id)
        try:
            reply_id = await self._post(decision, render_reply(cp))
        finally:
            self._sending.discard(post.post_id)
        await self.pipeline.sent(decision, reply_id)
        log.info("Reddit: replied to %s with %s", post.post_id, reply_id)
        return reply_id

    async def _post(self, decision: Decision, body: str) -> str:
        sub = decision.post.channel_id.lower()
        reason = self._disabled.get(sub) or await self.store.get_checkpoint(disabled_key(sub))
        try:
            if reason:
                raise RedditForbidden(f"r/{sub} is disabled ({reason})")
            return await self.client.reply(decision.post.post_id, body)
        except RedditUncertain:
            raise
        except RedditError as exc:
            await self.pipeline.failed(decision)
            if isinstance(exc, RedditForbidden) and not reason:
                await self.disable(sub, str(exc))
            raise

    async def summarize_url(self, url: str) -> tuple[Thread, list[Post]]:
        """The thread behind a Reddit URL, oldest first (the submission itself is the first post)."""
        return await self.client.fetch_thread(url)

    async def disable(self, sub: str, reason: str, *, by: str = "") -> None:
        """Stop watching and replying in r/<sub>; persisted. `by` "" means Reddit refused (the reason and time are
        kept for /reddit status, and the moderators are told once); otherwise a moderator turned it off."""
        sub = sub.lower()
        if not by:
            refused = {"reason": reason, "at": utcnow().isoformat()}
            await self.store.set_checkpoint(refused_key(sub), json.dumps(refused))
        if sub in self._disabled:
            return
        self._disabled[sub] = reason
        already = await self.store.get_checkpoint(disabled_key(sub))
        await self.store.set_checkpoint(disabled_key(sub), reason)
        log.warning("Reddit: r/%s disabled%s: %s", sub, f" by {by}" if by else "", reason)
        if not already and not by:
            await self._tell(
                f"Reddit: I stopped watching r/{sub} and will not reply there: {reason}. "
                "Nothing more is sent to it until a moderator re-enables it (/reddit enable)."
            )

    async def enable(self, sub: str, *, by: str = "") -> None:
        """Watch and reply in r/<sub> again: the next pass polls it."""
        sub = sub.lower()
        await self.store.set_checkpoint(disabled_key(sub), "")
        for state in (self._disabled, self._failures, self._resume_at):
            state.pop(sub, None)
        log.info("Reddit: r/%s enabled%s", sub, f" by {by}" if by else "")

    def configured(self, sub: str) -> str | None:
        """The configured subreddit a moderator means ("r/Name" or "name"), or None."""
        name = sub.strip().removeprefix("/").removeprefix("r/").lower()
        return name if name in self.subreddits else None

    async def status(self) -> list[SubredditStatus]:
        """Every configured subreddit, from the store (so it is right before the first pass and after a restart)."""
        out = []
        for sub in self.subreddits:
            reason = self._disabled.get(sub) or await self.store.get_checkpoint(disabled_key(sub)) or ""
            refused_reason, refused_at = "", None
            raw = await self.store.get_checkpoint(refused_key(sub))
            if raw:
                try:
                    data = json.loads(raw)
                    refused_reason, refused_at = str(data["reason"]), datetime.fromisoformat(data["at"])
                except (ValueError, KeyError, TypeError):
                    log.warning("Reddit: unreadable refusal record for r/%s", sub)
            out.append(SubredditStatus(sub, not reason, reason, refused_reason, refused_at))
        return out

    async def _tell_once(self, key: str, text: str) -> None:
        if key not in self._told:
            self._told.add(key)
            await self._tell(text)

    async def _tell(self, text: str) -> None:
        if self._notify is None:
            log.warning("%s", text)
            return
        try:
            await self._notify(text)
        except Exception:
            log.exception("Reddit: telling the moderators failed")

    async def aclose(self) -> None:
        await self.client.aclose()
