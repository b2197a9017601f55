"""Post -> store -> detect -> limits -> compose. Returns a Decision; never talks to a platform.

The adapter carries a Decision out: for "reply" it sends, then calls `sent()` (or `failed()` when sending did not
happen). Claims are taken before sending, so a crash between the claim and the send leaves the post claimed and
silent rather than answered twice.

Limits on everything unsolicited (settings [limits]; counted in the store, so they survive restarts): public
replies per thread (cooldown), per server or subreddit (hourly cap) and per author; items for the moderators
(review items, shadow notes) per author and per server/subreddit, a thread's posts within a window joining its
pending item; model calls per author (past the budget a post is judged offline only). A post past the
moderators' limits comes back as "ignore" with `flood` set: the adapter tells the moderators once per
flood. Composing (a model call) happens only for posts that passed every limit.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from bot.framing.lexical import prefilter
from bot.models import Counterpoint, Decision, Post, Verdict, utcnow
from bot.serialize import counterpoint_from_dict, counterpoint_to_dict, verdict_to_dict
from bot.settings import LimitsSettings, Settings
from bot.text.jsonsafe import JsonTooDeep

if TYPE_CHECKING:
    from bot.store import Store

log = logging.getLogger(__name__)

HOUR = 3600.0
UNLIMITED = 10**9  # recording an event whose limit was checked already, under the lock
UNJUDGED_DEEP = "unjudged: the model's reply was nested too deep to read"


class DetectorLike(Protocol):
    async def detect(self, text: str, *, parent: str | None = None) -> Verdict: ...


class ComposerLike(Protocol):
    async def compose(
        self,
        post_text: str,
        verdict: Verdict | None = None,
        *,
        platform: str | None = None,
        post_id: str | None = None,
        scope: str = "",
        guild_id: str | None = None,
    ) -> Counterpoint: ...


@dataclass(frozen=True, slots=True)
class Policy:
    """The effective settings for one channel or subreddit."""

    mode: str
    cooldown_seconds: int
    hourly_cap: int


def author_key(post: Post) -> str:
    """The subject of the per-author counters (forget_author removes them by this key)."""
    return f"{post.platform}:{post.author_id}"


def scope_key(post: Post) -> str:
    """A Discord server, or a subreddit: the unit of the hourly caps."""
    return post.scope


def text_hash(text: str) -> str:
    """What a review item remembers of the text it was composed for: a digest, not a copy."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class Pipeline:
    """`Pipeline(store, detector, composer, limits=settings.limits, defaults={platform: Policy}, model_judges=...)`,
    or `Pipeline.from_settings(settings, store, detector, composer)`. `defaults` holds each platform's policy from
    the settings ([discord], [reddit]); `model_judges` is False when framing.engine is "lexical" (no model budget
    is spent then)."""

    def __init__(
        self,
        store: Store,
        detector: DetectorLike,
        composer: ComposerLike,
        *,
        limits: LimitsSettings,
        defaults: Mapping[str, Policy],
        model_judges: bool = True,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store, self.detector, self.composer = store, detector, composer
        self.limits, self.defaults, self.model_judges = limits, defaults, model_judges
        self.clock = clock
        self._decide_lock = asyncio.Lock()  # limit checks and the claims or counts they lead to must not interleave
        # one lock per thread while its post is merged or queued, so two posts of a thread make one item
        self._thread_locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = weakref.WeakValueDictionary()

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        store: Store,
        detector: DetectorLike,
        composer: ComposerLike,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> Pipeline:
        d, r = settings.discord, settings.reddit
        defaults = {
            "discord": Policy(d.mode, d.cooldown_seconds, d.hourly_cap),
            "reddit": Policy(r.mode, r.cooldown_seconds, r.hourly_cap),
        }
        judges = settings.framing.engine != "lexical"
        return cls(
            store, detector, composer, limits=settings.limits, defaults=defaults, model_judges=judges, clock=clock
        )

    async def policy(self, platform: str, guild_id: str, channel_id: str) -> Policy:
        """Settings defaults, overridden guild-wide, then per channel, by what moderators set (Discord)."""
        if platform == "reddit":
            r = self.defaults["reddit"]
            conf = await self.store.get_channel_config("reddit", channel_id)
            return Policy(
                conf.get("mode", r.mode),
                int(conf.get("cooldown_seconds", r.cooldown_seconds)),
                int(conf.get("hourly_cap", r.hourly_cap)),
            )
        d = self.defaults["discord"]
        merged = await self.store.get_channel_config(guild_id, channel_id)  # guild-wide overlaid by the channel's
        return Policy(
            merged.get("mode", d.mode),
            int(merged.get("cooldown_seconds", d.cooldown_seconds)),
            int(merged.get("hourly_cap", d.hourly_cap)),
        )

    async def handle(self, post: Post, *, policy: Policy, parent_text: str | None = None) -> Decision:
        """Store the post, judge it, and decide what to do. Model failures degrade inside detector/composer."""
        if not await self.store.add_post(post):  # checks the opt-out itself: the reason is asked only then
            if await self.store.is_opted_out(post.platform, post.author_id):
                return Decision(post, None, "ignore", reason="author opted out")
            return Decision(post, None, "ignore", reason="already seen")
        if post.author_is_bot:
            return Decision(post, None, "ignore", reason="bots are never answered")
        if policy.mode == "off" or not post.text.strip():
            return Decision(post, None, "ignore", reason="mode off" if policy.mode == "off" else "empty")
        verdict = await self._detect(post, parent_text)
        if verdict is None:
            return Decision(post, None, "ignore", reason=UNJUDGED_DEEP)
        await self.store.record_verdict(post.platform, post.post_id, verdict)
        if not verdict.frames:
            return Decision(post, verdict, "ignore", reason=f"label {verdict.label}")
        if policy.mode == "shadow":
            return await self._to_moderators(post, verdict, "shadow mode", kind="shadow")
        if policy.mode == "queue":
            return await self._to_moderators(post, verdict, "queue mode", kind="queue")
        return await self._reply_or_queue(post, verdict, policy)

    async def _detect(self, post: Post, parent_text: str | None) -> Verdict | None:
        """The verdict, offline only once the author's model budget is spent. None when the model's reply could
        not be read because it nests too deep: the post stays unjudged, with one log line and no traceback."""
        options: dict[str, Any] = {}
        if self.model_judges and prefilter(post.text).passed:  # only these cost a call
            budget = self.limits.user_model_calls_per_hour
            if not await self.store.take_slot("model", author_key(post), limit=budget, window_seconds=HOUR):
                log.info("post %s: the author's model budget is spent; judged offline", post.post_id)
                options["engine"] = "lexical"
        try:
            return await self.detector.detect(post.text, parent=parent_text, **options)
        except (JsonTooDeep, RecursionError):
            log.warning("post %s left unjudged: the model's reply was nested too deep to read", post.post_id)
            return None

    async def _compose(self, post: Post, verdict: Verdict) -> Counterpoint:
        return await self.composer.compose(
            post.text,
            verdict,
            platform=post.platform,
            post_id=post.post_id,
            scope=scope_key(post),
            guild_id=post.guild_id,
        )

    async def _reply_or_queue(self, post: Post, verdict: Verdict, policy: Policy) -> Decision:
        """Reply mode: a public reply when the thread cooldown, the server/subreddit cap and the author's limit
        allow it (claimed under the lock, before composing); otherwise the moderators decide."""
        async with self._decide_lock:
            held = await self._held_back(post, policy)
            if not held:
                claimed = await self.store.claim_reply(
                    post.platform, post.post_id, thread_id=post.thread_id, guild_id=post.guild_id, kind="reply"
                )
                if not claimed:
                    return Decision(post, verdict, "ignore", reason="already answered")
                await self.store.take_slot("reply", author_key(post), limit=UNLIMITED, window_seconds=HOUR)
                if post.platform != "discord":  # Discord's cap counts the replies table itself
                    await self.store.take_slot("reply", scope_key(post), limit=UNLIMITED, window_seconds=HOUR)
        if held:
            return await self._to_moderators(post, verdict, held, kind="queue")
        try:
            cp = await self._compose(post, verdict)
        except BaseException:
            await self.store.release_reply(post.platform, post.post_id)
            raise
        return Decision(post, verdict, "reply", cp, reason="reply mode")

    async def _held_back(self, post: Post, policy: Policy) -> str:
        now = self.clock()
        last = await self.store.last_reply_at(post.platform, post.thread_id, kind="reply")
        if last is not None and now - last < timedelta(seconds=policy.cooldown_seconds):
            return "thread cooldown"
        if post.platform == "discord":
            hour = await self.store.replies_since(post.platform, post.guild_id, now - timedelta(hours=1), kind="reply")
        else:
            hour = await self.store.slots_used("reply", scope_key(post), window_seconds=HOUR)
        if hour >= policy.hourly_cap:
            return "hourly cap reached"
        used = await self.store.slots_used("reply", author_key(post), window_seconds=HOUR)
        return "the author's hourly reply limit" if used >= self.limits.user_replies_per_hour else ""

    @asynccontextmanager
    async def _thread_lock(self, post: Post) -> AsyncIterator[None]:
        key = (post.platform, post.thread_id)
        lock = self._thread_locks.get(key)
        if lock is None:
            lock = self._thread_locks[key] = asyncio.Lock()
        async with lock:
            yield

    async def _to_moderators(self, post: Post, verdict: Verdict, why: str, *, kind: str) -> Decision:
        """A review item (kind "queue") or a shadow note (kind "shadow"), within limits: a post of a thread with a
        pending item from the last review_merge_seconds joins that item; otherwise the author's and the
        server's/subreddit's hourly limits decide, and a post past them is dropped as part of a flood."""
        lim = self.limits
        async with self._thread_lock(post):
            if kind == "queue" and lim.review_merge_seconds > 0:
                since = self.clock() - timedelta(seconds=lim.review_merge_seconds)
                merged = await self.store.merge_into_review(post.platform, post.thread_id, post.post_id, since=since)
                if merged:
                    return Decision(post, verdict, "queue", None, reason=f"joined review #{merged}", review_id=merged)
            async with self._decide_lock:
                over = await self._moderator_limit(post)
                if over:
                    return Decision(post, verdict, "ignore", reason=f"flood limit ({over})", flood=over)
                if kind == "shadow":
                    claimed = await self.store.claim_reply(
                        post.platform, post.post_id, thread_id=post.thread_id, guild_id=post.guild_id, kind="shadow"
                    )
                    if not claimed:
                        return Decision(post, verdict, "ignore", reason="already answered")
                for subject in (author_key(post), scope_key(post)):
                    await self.store.take_slot("moderators", subject, limit=UNLIMITED, window_seconds=HOUR)
            try:
                cp = await self._compose(post, verdict)
            except BaseException:
                if kind == "shadow":
                    await self.store.release_reply(post.platform, post.post_id)
                raise
            if kind == "shadow":
                return Decision(post, verdict, "shadow", cp, reason=why)
            return await self._queue(post, verdict, cp, why)

    async def _moderator_limit(self, post: Post) -> str:
        lim, store = self.limits, self.store
        if await store.slots_used("moderators", author_key(post), window_seconds=HOUR) >= lim.user_reviews_per_hour:
            return "the author's hourly limit"
        if await store.slots_used("moderators", scope_key(post), window_seconds=HOUR) >= lim.reviews_per_hour:
            return "the server's hourly limit" if post.platform == "discord" else "the subreddit's hourly limit"
        return ""

    async def _queue(self, post: Post, verdict: Verdict | None, cp: Counterpoint | None, why: str) -> Decision:
        payload: dict[str, Any] = {
            "text": post.text, "author": post.author_name, "thread_id": post.thread_id, "channel_id": post.channel_id,
            "guild_id": post.guild_id, "url": post.url, "reason": why, "composed_for": text_hash(post.text),
        }  # fmt: skip
        if verdict is not None:
            payload["verdict"] = verdict_to_dict(verdict)
        if cp is not None:  # approve() needs it; without one there is nothing to approve
            payload["counterpoint"] = counterpoint_to_dict(cp)
        review_id = await self.store.enqueue_review(
            post.platform, post.post_id, payload=payload, thread_id=post.thread_id, scope=scope_key(post),
            author_id=post.author_id,
        )  # fmt: skip
        if not review_id:
            return Decision(post, verdict, "ignore", cp, reason="not queued (deleted or opted out)")
        return Decision(post, verdict, "queue", cp, reason=why, review_id=review_id)

    async def requeue(self, decision: Decision, why: str) -> Decision:
        """A claimed decision that cannot be carried out as planned (e.g. shadow mode with nowhere to show it)
        goes to the review queue instead: the claim is freed and the item waits for a moderator."""
        await self.failed(decision)
        return await self._queue(decision.post, decision.verdict, decision.counterpoint, why)

    # --- carrying a decision out ------------------------------------------------------------------------------------

    async def sent(self, decision: Decision, reply_id: str) -> None:
        cp = decision.counterpoint
        text, cites = (cp.text, cp.citations) if cp else ("", ())
        p = decision.post
        await self.store.confirm_reply(p.platform, p.post_id, reply_id=reply_id, text=text, citations=cites)

    async def failed(self, decision: Decision) -> None:
        """Sending did not happen (the platform refused): free the claim so a moderator can retry."""
        await self.store.release_reply(decision.post.platform, decision.post.post_id)

    async def approve(self, review_id: int, moderator: str) -> Decision | None:
        """A moderator approved a queued counterpoint: claim the post for a reply. None if already decided/sent.

        The CURRENT text is judged again first: when the post no longer frames (edited meanwhile), the decision is
        "ignore" with reason "no longer frames" and nothing may be posted; when it was edited and still frames,
        the counterpoint is composed anew for what the post says now."""
        item = await self.store.get_review(review_id)
        if item is None or not await self.store.decide_review(review_id, status="approved", moderator=moderator):
            return None
        post = await self.store.get_post(item.platform, item.post_id)
        payload = item.payload
        if post is None or "counterpoint" not in payload:
            return None
        verdict = await self._detect(post, None)
        if verdict is None:
            return Decision(post, None, "ignore", reason=UNJUDGED_DEEP, review_id=review_id)
        await self.store.record_verdict(post.platform, post.post_id, verdict)
        if not verdict.frames:
            return Decision(post, verdict, "ignore", reason="no longer frames", review_id=review_id)
        edited = payload.get("composed_for") not in (None, text_hash(post.text))
        cp = await self._compose(post, verdict) if edited else counterpoint_from_dict(payload["counterpoint"])
        ok = await self.store.claim_reply(post.platform, post.post_id, thread_id=post.thread_id, guild_id=post.guild_id)
        if not ok:
            return None
        return Decision(post, verdict, "reply", cp, reason=f"approved by {moderator}", review_id=review_id)

    async def approval_failed(self, decision: Decision) -> bool:
        """The approved reply could not be posted: put the item back in the queue so approving it again retries.
        Only when nothing went out: a sent reply, or a send that may have happened (its claim is kept), stays
        decided. True when the item is pending again."""
        p = decision.post
        if await self.store.get_reply(p.platform, p.post_id) is not None:
            return False
        return decision.review_id is not None and await self.store.reopen_review(decision.review_id)

    async def reject(self, review_id: int, moderator: str) -> bool:
        if not await self.store.decide_review(review_id, status="rejected", moderator=moderator):
            return False
        item = await self.store.get_review(review_id)  # a rejected reply must not come back for a repeated claim
        cp = item.payload.get("counterpoint") if item is not None else None
        if isinstance(cp, dict) and isinstance(cp.get("text"), str):
            await self.store.drop_cached_reply(cp["text"])
        return True
