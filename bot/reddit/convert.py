"""Reddit values without praw: stream bookmarks, praw object -> Post (bot/summary/reddit_items.py), `!optout`.

Conversion reads only what a listing already delivered (`vars(item)`), never a lazy praw attribute, so it cannot
trigger a network call; it runs inside the worker thread that owns praw (bot/reddit/client.py).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from bot.models import Post
from bot.summary.reddit_items import data_to_post, id_number, order_key

log = logging.getLogger(__name__)

_OPTOUT = re.compile(r"^\s*!opt-?out\b", re.IGNORECASE)


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


def thing_to_post(item: Any, *, me: str) -> Post:
    """A praw Comment or Submission (already loaded) -> Post. post_id is the fullname; thread_id the submission's."""
    return data_to_post(vars(item), me=me)
