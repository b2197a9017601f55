"""Rewrite the SQLite store's SQL into PostgreSQL's dialect, so both backends run the very same statements.

The feature mixins in bot.store are written once; this module bridges the few places where the two dialects differ:
placeholders (`?`, `?1`, `:name` become `$n`), `x IS NOT ?` (IS DISTINCT FROM), `SUM(a = b)` over booleans,
`LIMIT -1` (no limit), `instr()` (strpos), an untyped `? IS NULL` (PostgreSQL must know the parameter's type)
and a GROUP BY that SQLite accepts with bare columns. cp_norm() and the `rowid` ordering column exist in the
PostgreSQL schema instead (see schema.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# (pattern, replacement) applied after the placeholders became $n
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(\$\d+) IS NULL"), r"\1::text IS NULL"),
    (re.compile(r"IS NOT (\$\d+)"), r"IS DISTINCT FROM \1"),
    (re.compile(r"SUM\(([\w.]+) = (-?\d+)\)"), r"SUM(CASE WHEN \1 = \2 THEN 1 ELSE 0 END)"),
    (re.compile(r"LIMIT (\$\d+)"), r"LIMIT NULLIF(\1, -1)"),
    (re.compile(r"\binstr\("), "strpos("),
    # a no-op update that makes RETURNING yield the existing row: PostgreSQL wants the column qualified
    (re.compile(r"INSERT INTO (\w+)(.*?)DO UPDATE SET id = id\b", re.S), r"INSERT INTO \1\2DO UPDATE SET id = \1.id"),
    # PostgreSQL allows t.* columns only when t's primary key is grouped (functional dependency)
    (
        re.compile(r"GROUP BY p\.platform, p\.thread_id\b"),
        "GROUP BY p.platform, p.thread_id, t.platform, t.thread_id",
    ),
)


@lru_cache(maxsize=512)
def translate(sql: str) -> tuple[str, tuple[str, ...]]:
    """(PostgreSQL text, names of the named parameters in $n order; empty for positional ones)."""
    out: list[str] = []
    names: list[str] = []
    positional = 0
    i = 0
    while i < len(sql):
        ch = sql[i]
        if ch == "'":  # copy a string literal untouched ('' inside is an escaped quote)
            end = i + 1
            while end < len(sql):
                if sql[end] == "'" and not sql.startswith("''", end):
                    break
                end += 2 if sql.startswith("''", end) else 1
            out.append(sql[i : end + 1])
            i = end + 1
        elif ch == "?":
            digits = re.match(r"\d*", sql[i + 1 :])
            num = digits.group(0) if digits else ""
            if num:
                out.append(f"${int(num)}")
            else:
                positional += 1
                out.append(f"${positional}")
            i += 1 + len(num)
        elif ch == ":" and not sql.startswith("::", i) and (i == 0 or sql[i - 1] != ":"):
            match = _NAME.match(sql, i + 1)
            if not match:
                out.append(ch)
                i += 1
                continue
            name = match.group(0)
            if name not in names:
                names.append(name)
            out.append(f"${names.index(name) + 1}")
            i = match.end()
        else:
            out.append(ch)
            i += 1
    text = "".join(out)
    for pattern, repl in _REWRITES:
        text = pattern.sub(repl, text)
    return text, tuple(names)


def arguments(names: tuple[str, ...], params: Sequence[Any] | Mapping[str, Any]) -> list[Any]:
    if isinstance(params, Mapping):
        return [params[name] for name in names]
    return list(params)


def affected(status: str) -> int:
    """Rows touched, from a command tag such as "INSERT 0 1", "UPDATE 3" or "DELETE 0"."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0
