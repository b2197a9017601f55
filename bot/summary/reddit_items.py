"""Reddit's item format without praw: a submission's or comment's fields -> Post, and the order of items.

One conversion for the live stream (bot/reddit/, from praw's already-loaded attributes) and for saved comment
pages (exports.py, from the `data` of Reddit's JSON), so ids are fullnames everywhere.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.models import Post

REDDIT_WEB = "https://www.reddit.com"
DELETED = frozenset({"[deleted]", "[removed]"})
KNOWN_BOTS = frozenset({"automoderator"})


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
