"""Start-up cost of `counterpoint check` against the bare imports, and `demo`'s peak memory.

`.venv/bin/python bench/startup.py [--runs 15] [--json]`

Each round runs, one after the other in fresh processes (and, with --compare DIR, the same check from another
checkout): the bare imports the target is set against
(`python -c "import httpx, pydantic, aiosqlite"`) and `python -m bot check` on a framing post, with the model
server at an address where nothing listens (the default for someone who has not started one). Alternating the two
keeps a machine whose speed drifts from favouring either; read the ratio of the medians. One warm-up run of each
comes first, so the bytecode and the per-user program caches are in place, as they are for a user's second
command. PYTHONDONTWRITEBYTECODE is removed from the children's environment: an installed wheel has its bytecode.

`demo` runs --demo-runs times in an empty temporary folder; its peak RSS comes from wait4's rusage of that one
child. Prints a table, then one JSON line (run_all.py reads the last line).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
POST = "We must beat China in the AI race before it is too late."
BARE = [sys.executable, "-c", "import httpx, pydantic, aiosqlite"]
DEMO = [sys.executable, "-m", "bot", "demo"]


def child_env(tree: Path = REPO) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    env["PYTHONPATH"] = str(tree)  # that checkout's bot package, from any working folder
    env["COUNTERPOINT_LLM__BASE_URL"] = "http://127.0.0.1:9/v1"  # nothing listens on the discard port
    return env


def timed(cmd: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one child process; fails loudly when the command does."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or "Traceback" in err:
        raise SystemExit(f"{' '.join(cmd[1:4])} failed (exit {proc.returncode}): {err.strip()[-500:]}")
    return wall, usage.ru_maxrss / 1024  # Linux reports kilobytes


def run(runs: int, demo_runs: int, other: Path | None = None, post: str = POST) -> dict[str, Any]:
    check_cmd = [sys.executable, "-m", "bot", "check", post]
    env = child_env()
    other_env = child_env(other) if other is not None else None
    with tempfile.TemporaryDirectory() as empty:
        for cmd in (BARE, check_cmd):
            timed(cmd, env, empty)  # warm-up: bytecode and program caches
        if other_env is not None:
            timed(check_cmd, other_env, empty)
        bare: list[float] = []
        check: list[float] = []
        check_other: list[float] = []
        for _ in range(runs):
            bare.append(timed(BARE, env, empty)[0])
            check.append(timed(check_cmd, env, empty)[0])
            if other_env is not None:
                check_other.append(timed(check_cmd, other_env, empty)[0])
        demo = [timed(DEMO, env, empty) for _ in range(demo_runs)]
        demo_other = [timed(DEMO, other_env, empty) for _ in range(demo_runs)] if other_env is not None else []
    bare_ms, check_ms = statistics.median(bare) * 1000, statistics.median(check) * 1000
    compared: dict[str, Any] = {}
    if other is not None:
        other_ms = statistics.median(check_other) * 1000
        compared = {
            "other_tree": str(other),
            "other_check_ms": round(other_ms, 1),
            "other_check_over_bare": round(other_ms / bare_ms, 2),
            "other_demo_peak_rss_mb": round(statistics.median(r for _, r in demo_other), 1) if demo_other else None,
        }
    return {
        "runs": runs,
        "post": post,
        "bare_imports_ms": round(bare_ms, 1),
        "check_ms": round(check_ms, 1),
        "check_over_bare": round(check_ms / bare_ms, 2),
        "check_min_ms": round(min(check) * 1000, 1),
        "bare_min_ms": round(min(bare) * 1000, 1),
        "demo_runs": demo_runs,
        "demo_wall_s": round(statistics.median(w for w, _ in demo), 2) if demo else None,
        "demo_peak_rss_mb": round(statistics.median(r for _, r in demo), 1) if demo else None,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        **compared,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15, help="alternating rounds of bare imports and check (15)")
    ap.add_argument("--demo-runs", type=int, default=3, help="runs of demo for its peak RSS (3)")
    ap.add_argument("--json", action="store_true", help="only the JSON line")
    ap.add_argument("--compare", metavar="DIR", type=Path, help="another checkout (say, main before a change): its "
                    "check runs in the same rounds, so the two are measured side by side")  # fmt: skip
    ap.add_argument("--post", default=POST, help="the text to check (default: an English framing post)")
    args = ap.parse_args()
    r = run(max(1, args.runs), max(0, args.demo_runs), args.compare.resolve() if args.compare else None, args.post)
    if not args.json:
        print(f"{'measure':<52} {'median':>10}")
        print(f"{'bare imports (httpx, pydantic, aiosqlite)':<52} {r['bare_imports_ms']:>7.1f} ms")
        print(f"{'counterpoint check on a framing post, model down':<52} {r['check_ms']:>7.1f} ms")
        print(f"{'check / bare imports (target <= 2x)':<52} {r['check_over_bare']:>8.2f}x")
        if r["demo_runs"]:
            print(f"{'counterpoint demo: wall / peak RSS (target < 100 MB)':<52} "
                  f"{r['demo_wall_s']:.2f} s / {r['demo_peak_rss_mb']:.1f} MB")  # fmt: skip
        if "other_tree" in r:
            print(f"{'check from ' + r['other_tree']:<52} {r['other_check_ms']:>7.1f} ms "
                  f"({r['other_check_over_bare']:.2f}x; demo peak {r['other_demo_peak_rss_mb']} MB)")  # fmt: skip
        print(f"{r['runs']} rounds; load average {r['load_average']}")
    print(json.dumps(r))


if __name__ == "__main__":
    main()
