"""The one exception tree. Front doors catch `CounterpointError` at one boundary each; adapters map platform and
transport errors (discord.py, praw/prawcore, httpx) into it at their edge, so no caller needs to know a library's
own exceptions. Each class carries the exit code a command ends with when it reaches the CLI."""

from __future__ import annotations

EXIT_OK, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 2, 3


class CounterpointError(Exception):
    """Base of every error the core raises on purpose; the message is one sentence a person can act on."""

    exit_code = EXIT_UNAVAILABLE


class ConfigError(CounterpointError):
    """Bad settings or a bad input file: one sentence naming what and where."""

    exit_code = EXIT_USAGE


class InputError(ConfigError):
    """A file or text given by the user cannot be used."""


class NotAllowed(CounterpointError):
    """The caller may not do this (a moderator-only command or button)."""

    exit_code = EXIT_USAGE


class PlatformUnavailable(CounterpointError):
    """Discord (or another platform) cannot be reached: the network or the service is down."""


class StoreError(CounterpointError):
    """The database could not do what was asked (locked, disk full, corrupt)."""


class StorePathError(StoreError, ConfigError):
    """storage.path names a place where the database cannot be created or opened: a setting to fix."""

    exit_code = EXIT_USAGE


class LLMError(CounterpointError):
    """Base for model-server failures."""


class LLMUnavailable(LLMError):
    """The server refused the connection, is overloaded past our retries, or is not configured."""


class LLMTimeout(LLMError):
    """The server took longer than the deadline."""


class LLMBadResponse(LLMError):
    """The server answered, but not with something we can use (non-JSON, wrong schema, empty)."""


class SummaryModelFailed(LLMError):
    """Every part of a thread failed at the model: the summarizer falls back to the extractive summary."""


class RedditError(CounterpointError):
    """Reddit did not do what was asked; the message is one sentence a moderator can read."""


class RedditForbidden(RedditError):
    """403: the bot is banned, the subreddit is private, or it does not allow bots."""


class RedditNotFound(RedditError):
    """The subreddit, thread or comment does not exist (or is not a Reddit thread URL)."""


class RedditAuthError(RedditError):
    """Reddit rejected the credentials (or none allow posting)."""

    exit_code = EXIT_USAGE


class RedditUnavailable(RedditError):
    """5xx, 429 or a network failure that outlasted the retries: try again later."""


class RedditRejected(RedditError):
    """A definite no for this one item (deleted, locked, archived, too old): nothing was posted."""


class RedditUncertain(RedditError):
    """A reply may or may not have been posted and we could not check: its claim is kept so it is never re-sent."""


class ReplyMayHaveLanded(RedditUncertain):
    """Raised inside the Reddit worker instead of re-sending a reply whose first attempt may have landed."""
