"""The Store: every feature mixin over one set of connections. The only place in the project with SQL is this
package."""

from __future__ import annotations

from bot.store.admin import AdminMixin
from bot.store.content import ContentMixin
from bot.store.posts import PostsMixin
from bot.store.privacy import PrivacyMixin
from bot.store.replies import RepliesMixin
from bot.store.stats import DetectionsMixin, StatsMixin


class Store(PostsMixin, PrivacyMixin, RepliesMixin, ContentMixin, AdminMixin, StatsMixin, DetectionsMixin):
    """SQLite storage. `async with Store.open(path, busy_timeout_ms=...) as store:`; every method is async and
    raises bot.errors.StoreError (one clear sentence) when the database fails."""
