"""Progress for long CLI work, on stderr: a tqdm bar when stderr is a terminal, else a plain line now and then (so
logs and pipes stay readable). Nothing at all for work too short to need it."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from tqdm import tqdm


class Progress:
    """`p = Progress("eval", total, unit="items")`; `p.set(done)` or `p.advance()`; `p.close()` (or `with`)."""

    def __init__(self, desc: str, total: int, *, unit: str = "items", every: int = 0, stream: TextIO | None = None):
        self.desc, self.total, self.unit = desc, total, unit
        self._every = every
        self.every = every or max(1, total // 10)
        self.stream = stream or sys.stderr
        self.done = 0
        self._bar: Any = None
        if _is_terminal(self.stream):
            self._bar = tqdm(total=total, desc=desc, unit=f" {unit}", file=self.stream, leave=False, dynamic_ncols=True)

    def set(self, done: int, total: int | None = None) -> None:
        if total is not None and total != self.total:
            self.total = total
            self.every = self._every or max(1, total // 10)
            if self._bar is not None:
                self._bar.total = total
                self._bar.refresh()
        step, self.done = done - self.done, done
        if self._bar is not None:
            self._bar.update(step)
        elif step and (done == self.total or done % self.every == 0):
            print(f"{self.desc}: {done}/{self.total} {self.unit}".rstrip(), file=self.stream, flush=True)

    def advance(self, n: int = 1) -> None:
        self.set(self.done + n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
