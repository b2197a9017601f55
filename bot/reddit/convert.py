"""Reddit values without praw: stream bookmarks, praw object -> Post, `!optout`.

Conversion reads only what a listing already delivered (`vars(item)`), never a lazy praw attribute, so it cannot
trigger a network call; it runs inside the worker thread that owns praw (bot/reddit/client.py).
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.models import Post

log = logging.getLogger(__name__)

REDDIT_WEB = "https://www.reddit.com"
DELETED = frozenset({"[deleted]", "[removed]"})
KNOWN_BOTS = frozenset({"automoderator"})
_OPTOUT = re.compile(r"^\s*!opt-?out\b", re.IGNORECASE)


def id_number(fullname: str | None) -> int:
    """Reddit ids are base36 counters: t1_k3 -> int('k3', 36). 0 for anything else."""
    if not fullname or "_" not in fullname:
        return 0
    try:
        return int(fullname.split("_", 1)[1], 36)
    except ValueError:
        return 0


def order_key(post: Post) -> tuple[float, int]:
    """Listing order: creation second, then the id counter (ties within a second are common)."""
    return (post.created_at.timestamp(), id_number(post.post_id))


@dataclass(frozen=True, slots=True)
class Bookmark:
    """The newest item of one stream that was handled. Stored as the checkpoint reddit:<sub>:<kind>."""

    fullname: str | None
    created: float

    @classmethod
    def of(cls, post: Post) -> Bookmark:
        return cls(post.post_id, post.created_at.timestamp())

    def precedes(self, post: Post) -> bool:
        """True when `post` is newer than the bookmark, i.e. not handled yet."""
        return order_key(post) > (self.created, id_number(self.fullname))

    def dumps(self) -> str:
        return json.dumps({"fullname": self.fullname, "created": self.created})

    @classmethod
    def loads(cls, raw: str | None) -> Bookmark | None:
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return cls(data.get("fullname") or None, float(data.get("created") or 0.0))
        except (ValueError, TypeError, AttributeError):
            log.warning("Reddit: ignoring an unreadable stream checkpoint %r", raw[:80])
            return None


EMPTY = Bookmark(None, 0.0)  # the listing was empty when we first looked: everything after is new


def is_optout(text: str) -> bool:
    return bool(_OPTOUT.match(text or ""))


def is_bot_name(name: str, me: str) -> bool:
    low = name.lower()
    return low in KNOWN_BOTS or (bool(me) and low == me.lower())


def unescape(text: str) -> str:
    """The characters a reader sees. Pages fetched without raw_json=1 escape &, < and > once more, and Reddit's
    markdown renders entities typed into the text (&quot; pasted by a bot) as characters too: unescape until
    nothing changes (at most three rounds)."""
    for _ in range(3):
        plain = html.unescape(text)
        if plain == text:
            break
        text = plain
    return text


def _clean(text: Any) -> str:
    """Entities unescaped (unescape); [deleted] and [removed] bodies become empty."""
    text = unescape(str(text or ""))
    return "" if text.strip() in DELETED else text


def thing_to_post(item: Any, *, me: str) -> Post:
    """A praw Comment or Submission (already loaded) -> Post. post_id is the fullname; thread_id the submission's."""
    return data_to_post(vars(item), me=me)


def data_to_post(d: Mapping[str, Any], *, me: str = "") -> Post:
    """A submission's or comment's fields (praw's attributes, or the `data` of Reddit's JSON) -> Post.
    One conversion for the live stream and for saved comment pages, so ids are fullnames everywhere."""
    author = d.get("author")
    name = str(author) if author is not None else "[deleted]"
    submission = "title" in d
    if submission:
        fullname = f"t3_{d['id']}"
        text = "\n\n".join(x for x in (_clean(d.get("title")), _clean(d.get("selftext"))) if x.strip())
        thread, parent = fullname, None
    else:
        fullname = f"t1_{d['id']}"
        text, thread, parent = _clean(d.get("body")), str(d.get("link_id") or ""), d.get("parent_id")
    return Post(
        platform="reddit",
        post_id=fullname,
        thread_id=thread,
        author_id=name,
        author_name=name,
        text=text,
        created_at=datetime.fromtimestamp(float(d["created_utc"]), UTC),
        channel_id=str(d.get("subreddit") or ""),
        parent_id=str(parent) if parent else None,
        author_is_bot=is_bot_name(name, me),
        url=permalink(d),
    )


def permalink(d: Mapping[str, Any]) -> str:
    """The item's own link; comments from older pages carry no `permalink`, so it is built from the ids."""
    if d.get("permalink"):
        return REDDIT_WEB + str(d["permalink"])
    sub, item = d.get("subreddit"), d.get("id")
    if not sub or not item:
        return ""
    if "title" in d:
        return f"{REDDIT_WEB}/r/{sub}/comments/{item}/"
    link = str(d.get("link_id") or "").removeprefix("t3_")
    return f"{REDDIT_WEB}/r/{sub}/comments/{link}/_/{item}/" if link else ""
