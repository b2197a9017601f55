"""The Reddit adapter: praw behind ONE worker thread, and the front door built on it.

praw is synchronous and sleeps in-thread for rate limits, and a stream generator used from two threads raises
`ValueError: generator already executing`. So a single-thread executor owns the praw.Reddit instance and every
stream; the event loop submits jobs to it and awaits the results. Lazy praw attributes are read inside the thread
(bot/reddit_convert.py) and only plain values (Post, Thread, str) and our own RedditError types come back.

Exactly once: prawcore retries a POST that got a 5xx or a timeout, which can publish a reply twice. The
requestor below refuses that re-send; the reply job then looks in the bot's own recent comments for the reply
and only posts again when it is surely not there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import praw
import prawcore
from praw.exceptions import InvalidURL, PRAWException, ReadOnlyException, RedditAPIException

from bot.errors import (
    ConfigError,
    InputError,
    RedditAuthError,
    RedditError,
    RedditForbidden,
    RedditNotFound,
    RedditRejected,
    RedditUnavailable,
    RedditUncertain,
    ReplyMayHaveLanded,
)
from bot.models import Post, Thread
from bot.reddit.convert import thing_to_post
from bot.reddit.door import DoorResources, Notify, OnQueued, RedditDoor
from bot.settings import Settings
from bot.summary.reddit_items import DELETED, REDDIT_WEB, order_key

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_BATCH = 200  # items per poll job, so one busy subreddit cannot hold the thread
MORE_LIMIT = 16  # "load more comments" requests per summarized thread
POST_ATTEMPTS = 2
INFO_BATCH = 100  # fullnames per /api/info request: Reddit's maximum
BANNED = frozenset({"SUBREDDIT_NOTALLOWED", "SUBREDDIT_NOTALLOWED_BANNED", "BANNED_FROM_SUBREDDIT"})


class _ReplyGuard:
    """State shared by the reply job and the requestor; both run only in the worker thread."""

    def __init__(self) -> None:
        self.armed = False
        self.tainted = False  # the armed POST got a 5xx/timeout: it may have been applied


class _GuardedRequestor(prawcore.Requestor):
    def __init__(self, *args: Any, guard: _ReplyGuard, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guard = guard

    def request(self, *args: Any, **kwargs: Any) -> Any:
        method, url = (str(a) for a in [*args, "", ""][:2])
        if not (self._guard.armed and method.upper() == "POST" and "/api/comment" in url):
            return super().request(*args, **kwargs)
        if self._guard.tainted:
            raise ReplyMayHaveLanded
        try:
            response = super().request(*args, **kwargs)
        except prawcore.RequestException:
            self._guard.tainted = True
            raise
        if response.status_code >= 500 or response.status_code == 408:
            self._guard.tainted = True
        return response


def translate(exc: Exception) -> RedditError:
    """praw/prawcore exceptions -> our types, with a message fit for a moderator (never a secret)."""
    if isinstance(exc, RedditError):
        return exc
    if isinstance(exc, prawcore.Forbidden):
        return RedditForbidden(
            "Reddit answered 403 Forbidden (the bot is banned there, the subreddit is private, "
            "or it does not allow bots)"
        )
    if isinstance(exc, prawcore.NotFound | prawcore.Redirect):
        return RedditNotFound("Reddit says it does not exist")
    if isinstance(exc, InvalidURL):
        return RedditNotFound("that is not a link to a Reddit thread")
    if isinstance(exc, prawcore.OAuthException | prawcore.InvalidToken | prawcore.InsufficientScope):
        return RedditAuthError("Reddit rejected the bot's credentials (REDDIT_CLIENT_ID/SECRET, USERNAME/PASSWORD)")
    if isinstance(exc, ReadOnlyException):
        return RedditAuthError("posting needs REDDIT_USERNAME and REDDIT_PASSWORD")
    if isinstance(exc, RedditAPIException):
        kinds = {item.error_type for item in exc.items}
        detail = "; ".join(f"{i.error_type}: {i.message}" for i in exc.items)
        if kinds & BANNED:
            return RedditForbidden(f"Reddit refused the post ({detail})")
        if "RATELIMIT" in kinds:
            return RedditUnavailable(f"Reddit's rate limit ({detail})")
        return RedditRejected(f"Reddit refused the post ({detail})")
    if isinstance(exc, prawcore.ServerError | prawcore.RequestException | prawcore.TooManyRequests | prawcore.BadJSON):
        return RedditUnavailable(f"Reddit is not answering properly right now ({type(exc).__name__})")
    if isinstance(exc, prawcore.ResponseException) and exc.response.status_code == 401:
        return RedditAuthError("Reddit rejected the bot's credentials (401)")
    if isinstance(exc, prawcore.PrawcoreException | PRAWException):
        return RedditError(f"Reddit request failed ({type(exc).__name__}: {exc})")
    return RedditError(f"unexpected {type(exc).__name__} while talking to Reddit: {exc}")


class RedditClient:
    """Async facade over the praw worker thread. Every method but aclose() is one job on that thread."""

    def __init__(self, settings: Settings) -> None:
        if not settings.has_reddit:
            raise ConfigError("Reddit needs REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET in the environment.")
        self.settings = settings
        self.username = settings.reddit_username or ""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reddit-praw")
        self._guard = _ReplyGuard()
        self._reddit: praw.Reddit | None = None  # created and used only in the worker thread
        self._streams: dict[tuple[str, str], Iterator[Any]] = {}
        self._closed = False

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise RedditError("the Reddit client is closed")
        return await asyncio.wrap_future(self._executor.submit(self._guarded, fn, *args))

    @staticmethod
    def _guarded(fn: Callable[..., T], *args: Any) -> T:
        try:
            return fn(*args)
        except Exception as exc:  # every praw failure becomes one of our types before it leaves the thread
            raise translate(exc) from None

    async def poll(self, sub: str, kind: str, *, after: str | None) -> list[Post]:
        """New items of r/<sub> ("comments" or "submissions"), oldest first; `after` seeds a new stream."""
        return await self._call(self._poll_job, sub, kind, after)

    async def reply(self, target: str, body: str) -> str:
        """Post `body` as a reply to the fullname `target`; returns the new comment's fullname."""
        return await self._call(self._reply_job, target, body)

    async def fetch_thread(self, url: str) -> tuple[Thread, list[Post]]:
        return await self._call(self._thread_job, url)

    async def recheck(self, fullnames: list[str]) -> dict[str, str | None]:
        """What Reddit shows now for items seen before: fullname -> current text, None when deleted, removed or
        gone. One /api/info request per 100 fullnames, on the worker thread (praw keeps the rate budget)."""
        return await self._call(self._recheck_job, list(fullnames))

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._executor.submit(self._streams.clear)  # generators are closed on the thread that ran them
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)

    # --- jobs: everything below runs in the worker thread -----------------------------------------------------------
    def _praw(self) -> praw.Reddit:
        if self._reddit is None:
            s = self.settings
            assert s.reddit_client_id is not None and s.reddit_client_secret is not None
            login: dict[str, str] = {}
            if s.reddit_username and s.reddit_password:
                login = {"username": s.reddit_username, "password": s.reddit_password.get_secret_value()}
            self._reddit = praw.Reddit(
                client_id=s.reddit_client_id.get_secret_value(),
                client_secret=s.reddit_client_secret.get_secret_value(),
                user_agent=s.user_agent(),
                oauth_url=s.reddit.oauth_url,
                reddit_url=s.reddit.reddit_url,
                check_for_updates=False,
                check_for_async=False,
                requestor_class=_GuardedRequestor,
                requestor_kwargs={"guard": self._guard},
                **login,
            )
        return self._reddit

    def _poll_job(self, sub: str, kind: str, after: str | None) -> list[Post]:
        key = (sub.lower(), kind)
        stream = self._streams.get(key)
        if stream is None:
            subreddit = self._praw().subreddit(sub)
            make = subreddit.stream.submissions if kind == "submissions" else subreddit.stream.comments
            # pause_after=0: one request per poll and a None instead of praw's in-thread sleep
            stream = self._streams[key] = make(pause_after=0, continue_after_id=after)
        posts: list[Post] = []
        try:
            for item in stream:
                if item is None:
                    break
                self._convert_into(posts, item)
                if len(posts) >= MAX_BATCH:
                    break
        except Exception:
            self._streams.pop(key, None)  # a generator that raised is finished; the next poll starts a new one
            raise
        return posts

    def _convert_into(self, posts: list[Post], item: Any) -> None:
        try:
            posts.append(thing_to_post(item, me=self.username))
        except (KeyError, TypeError, ValueError) as exc:  # one odd item must not jam the stream
            log.warning("Reddit: skipping an item that could not be read (%s)", exc)

    def _reply_job(self, target: str, body: str) -> str:
        reddit = self._praw()
        self._check_target(reddit, target)
        for attempt in range(POST_ATTEMPTS):
            made = self._post_once(reddit, target, body) or self._find_mine(reddit, target)
            if made:
                return made
            log.warning("Reddit: reply to %s did not land (attempt %d)", target, attempt + 1)
        raise RedditUnavailable(f"Reddit failed {POST_ATTEMPTS} times to take the reply; nothing was posted")

    def _check_target(self, reddit: praw.Reddit, target: str) -> None:
        """Refuse early when the post is gone, locked or archived (a moderator may approve hours later)."""
        found = list(reddit.info(fullnames=[target]))
        if not found:
            raise RedditRejected("the post is gone")
        d = vars(found[0])
        if d.get("locked") or d.get("archived"):
            raise RedditRejected("the post is locked or archived")
        text = str(d.get("body", d.get("selftext", "")) or "").strip()
        if d.get("author") is None or text in DELETED:
            raise RedditRejected("the post was deleted or removed")

    def _post_once(self, reddit: praw.Reddit, target: str, body: str) -> str | None:
        """The new fullname, or None when the outcome is unknown (5xx/timeout/no object returned)."""
        thing = reddit.comment(target[3:]) if target.startswith("t1_") else reddit.submission(target[3:])
        self._guard.armed, self._guard.tainted = True, False
        try:
            made = thing.reply(body)
        except Exception:
            if self._guard.tainted:
                return None
            raise
        finally:
            self._guard.armed = False
        return str(made.fullname) if made is not None else None

    def _find_mine(self, reddit: praw.Reddit, target: str) -> str | None:
        if not self.username:
            raise RedditUncertain("Reddit did not confirm the reply and there is no bot account to check it")
        try:
            for comment in reddit.redditor(self.username).comments.new(limit=25):
                if vars(comment).get("parent_id") == target:
                    return str(comment.fullname)
        except Exception as exc:
            raise RedditUncertain("Reddit did not confirm the reply and it could not be checked") from exc
        return None

    def _recheck_job(self, fullnames: list[str]) -> dict[str, str | None]:
        found: dict[str, str | None] = dict.fromkeys(fullnames)  # absent from the answer: gone
        reddit = self._praw()
        for start in range(0, len(fullnames), INFO_BATCH):
            for item in reddit.info(fullnames=fullnames[start : start + INFO_BATCH]):  # one request per batch
                d = vars(item)
                own = str(d.get("body") if "body" in d else d.get("selftext") or "").strip()
                if own in DELETED or d.get("removed_by_category"):
                    continue  # deleted by its author or removed by moderators: stays None
                try:
                    post = thing_to_post(item, me=self.username)
                except (KeyError, TypeError, ValueError) as exc:
                    log.warning("Reddit: could not re-read %s (%s)", d.get("name"), exc)
                    found.pop(str(d.get("name")), None)  # unknown: neither kept nor deleted
                    continue
                found[post.post_id] = post.text or None
        return found

    def _thread_job(self, url: str) -> tuple[Thread, list[Post]]:
        submission = self._praw().submission(url=url)
        submission.comment_sort = "old"
        title = str(submission.title)  # the first lazy attribute loads the whole comment page, here in the thread
        submission.comments.replace_more(limit=MORE_LIMIT)
        posts = [thing_to_post(submission, me=self.username)]
        posts += [thing_to_post(c, me=self.username) for c in submission.comments.list()]
        d = vars(submission)
        thread = Thread(
            platform="reddit",
            thread_id=f"t3_{d['id']}",
            title=title,
            channel_id=str(d.get("subreddit") or ""),
            url=REDDIT_WEB + str(d["permalink"]) if d.get("permalink") else url,
        )
        return thread, sorted((p for p in posts if p.text.strip()), key=order_key)  # ties: by id, as listed


class RedditFrontDoor(RedditDoor):
    """The Reddit front door: `await door.run(stop)` watches; `reply(decision)` and `summarize_url(url)` serve
    the Discord review queue and /summarize; `await door.aclose()` stops the praw thread. See RedditDoor.

    resources: bot.app.Resources, or anything with its settings, store and pipeline (DoorResources).
               ConfigError without Reddit credentials.
    notify:    `async (text) -> None`, one sentence for the moderators (a subreddit disabled after a 403, rejected
               credentials); each situation is told once. Without it the text is logged.
    on_queued: `async (decision) -> None`, called when a Reddit post went to the review queue (the review id is
               decision.review_id); optional, the queue is in the store either way.
    client:    a RedditClient to share, or a stand-in for tests; one is built from the settings by default."""

    def __init__(
        self,
        resources: DoorResources,
        *,
        notify: Notify | None = None,
        on_queued: OnQueued | None = None,
        client: RedditClient | None = None,
    ) -> None:
        super().__init__(resources, client or RedditClient(resources.settings), notify=notify, on_queued=on_queued)


async def fetch_thread(settings: Settings, url: str) -> tuple[Thread, list[Post]]:
    """The hook `counterpoint summarize URL` calls (bot/commands/summarize.py)."""
    client = RedditClient(settings)
    try:
        thread, posts = await client.fetch_thread(url)
    except (RedditNotFound, RedditRejected, RedditForbidden) as exc:
        raise InputError(f"{url}: {exc}.") from None
    except RedditAuthError as exc:
        raise ConfigError(f"{exc}.") from None
    finally:
        await client.aclose()
    if not posts:
        raise InputError(f"{url}: the thread has no text to summarize.")
    return thread, posts
