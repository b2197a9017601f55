"""Post -> store -> detect -> decide -> compose. Returns a Decision; never talks to a platform.

The adapter carries a Decision out: for "reply" it sends, then calls `sent()` (or `failed()` when sending did not
happen). Claims are taken before sending, so a crash between the claim and the send leaves the post claimed and
silent rather than answered twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.models import Counterpoint, Decision, Post, Verdict, utcnow
from bot.serialize import counterpoint_from_dict, counterpoint_to_dict, verdict_to_dict
from bot.settings import Settings

log = logging.getLogger(__name__)


class DetectorLike(Protocol):
    async def detect(self, text: str, *, parent: str | None = None) -> Verdict: ...


class ComposerLike(Protocol):
    async def compose(
        self, post_text: str, verdict: Verdict | None = None, *, platform: str | None = None, post_id: str | None = None
    ) -> Counterpoint: ...


@dataclass(frozen=True, slots=True)
class Policy:
    """The effective settings for one channel or subreddit."""

    mode: str
    cooldown_seconds: int
    hourly_cap: int


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        store: Any,
        detector: DetectorLike,
        composer: ComposerLike,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings, self.store, self.detector, self.composer = settings, store, detector, composer
        self.clock = clock
        self._decide_lock = asyncio.Lock()  # cooldown/cap check and claim must not interleave

    async def policy(self, platform: str, guild_id: str, channel_id: str) -> Policy:
        """Settings defaults, overridden guild-wide, then per channel, by what moderators set (Discord)."""
        if platform == "reddit":
            r = self.settings.reddit
            conf = await self.store.get_channel_config("reddit", channel_id)
            return Policy(conf.get("mode", r.mode), int(conf.get("cooldown_seconds", r.cooldown_seconds)), 10**6)
        d = self.settings.discord
        merged = {
            **await self.store.get_channel_config(guild_id, ""),
            **await self.store.get_channel_config(guild_id, channel_id),
        }
        return Policy(
            merged.get("mode", d.mode),
            int(merged.get("cooldown_seconds", d.cooldown_seconds)),
            int(merged.get("hourly_cap", d.hourly_cap)),
        )

    async def handle(self, post: Post, *, policy: Policy, parent_text: str | None = None) -> Decision:
        """Store the post, judge it, and decide what to do. Model failures degrade inside detector/composer."""
        if await self.store.is_opted_out(post.platform, post.author_id):
            return Decision(post, None, "ignore", reason="author opted out")
        if not await self.store.add_post(post):
            return Decision(post, None, "ignore", reason="already seen")
        if post.author_is_bot:
            return Decision(post, None, "ignore", reason="bots are never answered")
        if policy.mode == "off" or not post.text.strip():
            return Decision(post, None, "ignore", reason="mode off" if policy.mode == "off" else "empty")
        verdict = await self.detector.detect(post.text, parent=parent_text)
        await self.store.record_verdict(post.platform, post.post_id, verdict)
        if not verdict.frames:
            return Decision(post, verdict, "ignore", reason=f"label {verdict.label}")
        cp = await self.composer.compose(post.text, verdict, platform=post.platform, post_id=post.post_id)
        return await self._decide(post, verdict, cp, policy)

    async def _decide(self, post: Post, verdict: Verdict, cp: Counterpoint, policy: Policy) -> Decision:
        async with self._decide_lock:
            if policy.mode == "shadow":
                return await self._claimed(post, verdict, cp, "shadow", "shadow mode")
            if policy.mode == "queue":
                return await self._queue(post, verdict, cp, "queue mode")
            held = await self._held_back(post, policy)
            if held:
                return await self._queue(post, verdict, cp, held)
            return await self._claimed(post, verdict, cp, "reply", "reply mode")

    async def _held_back(self, post: Post, policy: Policy) -> str:
        now = self.clock()
        last = await self.store.last_reply_at(post.platform, post.thread_id, kind="reply")
        if last is not None and now - last < timedelta(seconds=policy.cooldown_seconds):
            return "thread cooldown"
        hour = await self.store.replies_since(post.platform, post.guild_id, now - timedelta(hours=1), kind="reply")
        return "hourly cap reached" if hour >= policy.hourly_cap else ""

    async def _claimed(self, post: Post, verdict: Verdict, cp: Counterpoint, kind: str, why: str) -> Decision:
        ok = await self.store.claim_reply(
            post.platform, post.post_id, thread_id=post.thread_id, guild_id=post.guild_id, kind=kind
        )
        if not ok:
            return Decision(post, verdict, "ignore", cp, reason="already answered")
        return Decision(post, verdict, "reply" if kind == "reply" else "shadow", cp, reason=why)

    async def _queue(self, post: Post, verdict: Verdict | None, cp: Counterpoint | None, why: str) -> Decision:
        payload: dict[str, Any] = {
            "text": post.text, "author": post.author_name, "thread_id": post.thread_id, "channel_id": post.channel_id,
            "guild_id": post.guild_id, "url": post.url, "reason": why,
        }  # fmt: skip
        if verdict is not None:
            payload["verdict"] = verdict_to_dict(verdict)
        if cp is not None:  # approve() needs it; without one there is nothing to approve
            payload["counterpoint"] = counterpoint_to_dict(cp)
        review_id = await self.store.enqueue_review(post.platform, post.post_id, payload=payload)
        if not review_id:
            return Decision(post, verdict, "ignore", cp, reason="not queued (deleted or opted out)")
        return Decision(post, verdict, "queue", cp, reason=why, extra={"review_id": str(review_id)})

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
        """A moderator approved a queued counterpoint: claim the post for a reply. None if already decided/sent."""
        item = await self.store.get_review(review_id)
        if item is None or not await self.store.decide_review(review_id, status="approved", moderator=moderator):
            return None
        post = await self.store.get_post(item["platform"], item["post_id"])
        payload = item.get("payload") or {}
        if post is None or "counterpoint" not in payload:
            return None
        cp = counterpoint_from_dict(payload["counterpoint"])
        ok = await self.store.claim_reply(post.platform, post.post_id, thread_id=post.thread_id, guild_id=post.guild_id)
        if not ok:
            return None
        return Decision(post, None, "reply", cp, reason=f"approved by {moderator}", extra={"review_id": str(review_id)})

    async def approval_failed(self, decision: Decision) -> bool:
        """The approved reply could not be posted: put the item back in the queue so approving it again retries.
        Only when nothing went out: a sent reply, or a send that may have happened (its claim is kept), stays
        decided. True when the item is pending again."""
        p = decision.post
        if await self.store.get_reply(p.platform, p.post_id) is not None:
            return False
        review_id = int(decision.extra.get("review_id", 0))
        return bool(review_id) and bool(await self.store.reopen_review(review_id))

    async def reject(self, review_id: int, moderator: str) -> bool:
        return bool(await self.store.decide_review(review_id, status="rejected", moderator=moderator))
