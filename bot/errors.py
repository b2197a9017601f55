"""The typed exception hierarchy of the core. Front doors catch these at one boundary each."""

from __future__ import annotations


class CounterpointError(Exception):
    """Base of every error the core raises on purpose."""


class ConfigError(CounterpointError):
    """Bad settings or a bad input file: one sentence naming what and where (exit code 2)."""


class InputError(ConfigError):
    """A file or text given by the user cannot be used (exit code 2)."""


class StoreError(CounterpointError):
    """The database could not do what was asked (locked, disk full, corrupt)."""


class LLMError(CounterpointError):
    """Base for model-server failures."""


class LLMUnavailable(LLMError):
    """The server refused the connection, is overloaded past our retries, or is not configured."""


class LLMTimeout(LLMError):
    """The server took longer than the deadline."""


class LLMBadResponse(LLMError):
    """The server answered, but not with something we can use (non-JSON, wrong schema, empty)."""
