"""Run every bench and write one table: `.venv/bin/python bench/run_all.py [--quick]`.

Runs bench/framing.py, bench/store.py, bench/summarize.py, bench/pipeline.py and bench/startup.py, each in its own
process (framing pins itself to one core; the others must not inherit that), reads the JSON line each prints, and writes
bench/results/run-<UTC time>.json (every figure, plus the machine), bench/results/latest.json and
bench/results/latest.md (the headline table with the machine it ran on). The table is printed too.
A bench that fails or times out is reported as such; the others still run. --quick shrinks every bench (a smoke run
for CI or a laptop; its figures are noisier). bench/results/ is git-ignored.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"

FULL: dict[str, list[str]] = {
    "framing": ["--runs", "3"],
    "store": ["--posts", "2000"],
    "summarize": [],
    "pipeline": [],
    "startup": ["--runs", "15"],
}
QUICK: dict[str, list[str]] = {
    "framing": ["--posts", "20000", "--runs", "1"],
    "store": ["--posts", "500"],
    "summarize": ["--messages", "1000", "--latency", "0.05"],
    "pipeline": ["--posts", "1000", "--stored", "10000", "--summary-messages", "300", "--runs", "1"],
    "startup": ["--runs", "3", "--demo-runs", "1"],
}


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        cpu = platform.processor() or cpu
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    git = ["git", "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(git, check=False, cwd=REPO, capture_output=True, text=True)
    return {
        "cpu": cpu, "cores": os.cpu_count(), "usable_cores": usable, "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version, "os": f"{platform.system()} {platform.release()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "commit": commit.stdout.strip() or "unknown",
    }  # fmt: skip


def run_bench(name: str, args: list[str], timeout: float) -> dict[str, Any]:
    """One bench in its own process; its last stdout line is its JSON."""
    cmd = [sys.executable, str(HERE / f"{name}.py"), *args, "--json"]
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, check=False, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:g} s"}
    took = round(time.monotonic() - started, 1)
    lines = [line for line in proc.stdout.splitlines() if line.strip().startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: {' | '.join(tail)}", "seconds": took}
    return {**json.loads(lines[-1]), "seconds": took}


def _get(data: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and value >= 100:
        value = round(value)
    text = f"{value:,}" if isinstance(value, int | float) else str(value)
    return f"{text} {unit}".strip()


def rows(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(measure, value, which bench) for the headline table."""
    p, f, s, m = r.get("pipeline", {}), r.get("framing", {}), r.get("store", {}), r.get("summarize", {})
    st = r.get("startup", {})
    mem = _get(p, "memory") or {}
    stored = mem.get("stored_posts")
    lex, fake = _get(p, "overhead_lexical") or {}, _get(p, "overhead_fake_model") or {}
    full, inc = _get(m, "full") or {}, _get(m, "incremental") or {}
    return [
        ("Bot overhead per post, offline lexical engine (p50 / p99)",
         f"{_fmt(lex.get('p50_ms'))} / {_fmt(lex.get('p99_ms'), 'ms')}", "pipeline"),
        ("Bot overhead per post, zero-latency model, model time excluded (p50 / p99)",
         f"{_fmt(fake.get('p50_ms'))} / {_fmt(fake.get('p99_ms'), 'ms')}", "pipeline"),
        ("Posts through the pipeline, one at a time", _fmt(lex.get("posts_per_s"), "posts/s"), "pipeline"),
        ("Store ingest: add_post, sequential", _fmt(_get(s, "add_post (sequential)", "per_second"), "posts/s"),
         "store"),
        ("Store: exactly-once reply claims", _fmt(_get(s, "claim_reply (sequential)", "per_second"), "claims/s"),
         "store"),
        (f"Memory (RSS) with {_fmt(stored)} posts stored (process start: {_fmt(mem.get('rss_mb_empty'))} MB)",
         _fmt(mem.get(f"rss_mb_at_{stored}"), "MB"), "pipeline"),
        (f"Database file with {_fmt(stored)} posts", _fmt(mem.get("db_mb"), "MB"), "pipeline"),
        ("Python heap kept per 1,000 more posts handled", _fmt(mem.get("python_heap_kept_per_1000_posts_kb"), "kB"),
         "pipeline"),
        ("Prefilter throughput, one core", _fmt(f.get("prefilter_posts_per_s"), "posts/s"), "framing"),
        ("Offline lexical engine throughput, one core", _fmt(f.get("lexical_posts_per_s"), "posts/s"), "framing"),
        ("Model calls per 1,000 ordinary posts (naive design: 1,000)",
         _fmt(_get(p, "model_calls", "model_calls")), "pipeline"),
        ("Prefilter pass rate on ordinary chat", _fmt(f.get("prefilter_pass_rate")), "framing"),
        (f"Summary of a {_fmt(full.get('messages'))}-message thread: model calls; wall (ideal) at "
         f"{_fmt(m.get('latency_s'))} s/call, concurrency {_fmt(m.get('concurrency'))}",
         f"{_fmt(full.get('calls'))}; {_fmt(full.get('wall_s'))} s ({_fmt(full.get('ideal_s'))} s)", "summarize"),
        ("`counterpoint check` on a framing post / bare imports, model down (medians)",
         f"{_fmt(st.get('check_ms'))} / {_fmt(st.get('bare_imports_ms'), 'ms')} ({_fmt(st.get('check_over_bare'))}x)",
         "startup"),
        ("`counterpoint demo`: wall / peak RSS",
         f"{_fmt(st.get('demo_wall_s'))} s / {_fmt(st.get('demo_peak_rss_mb'), 'MB')}", "startup"),
        ("Summary: prompt tokens sent (server count)", _fmt(full.get("prompt_tokens_server")), "summarize"),
        (f"Summary update after {_fmt((inc.get('messages') or 0) - (full.get('messages') or 0))} new messages: calls",
         _fmt(inc.get("calls")), "summarize"),
    ]  # fmt: skip


def markdown(result: dict[str, Any]) -> str:
    mc = result["machine"]
    head = (
        f"Machine: {mc['cpu']}, {mc['cores']} cores ({mc['usable_cores']} usable), Python {mc['python']}, "
        f"SQLite {mc['sqlite']}, {mc['os']}; commit {mc['commit']}, {mc['date']}"
        f"{' (--quick)' if result.get('quick') else ''}."
    )
    lines = [head, "", "| Measure | Value | Bench |", "|---|---|---|"]
    lines += [f"| {a} | {b} | bench/{c}.py |" for a, b, c in rows(result["benches"])]
    failed = {k: v["error"] for k, v in result["benches"].items() if "error" in v}
    if failed:
        lines += ["", *(f"- bench/{k}.py failed: {err}" for k, err in failed.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    ap.add_argument("--only", nargs="*", choices=sorted(FULL), help="run only these benches")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per bench")
    args = ap.parse_args(argv)
    plan = QUICK if args.quick else FULL
    benches = {}
    for name in args.only or list(plan):
        print(f"running bench/{name}.py ...", file=sys.stderr, flush=True)
        benches[name] = run_bench(name, plan[name], args.timeout)
    result = {"machine": machine(), "quick": args.quick, "benches": benches}
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    text = json.dumps(result, indent=2)
    (RESULTS / f"run-{stamp}.json").write_text(text + "\n", encoding="utf-8")
    (RESULTS / "latest.json").write_text(text + "\n", encoding="utf-8")
    table = markdown(result)
    (RESULTS / "latest.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    return 1 if any("error" in v for v in benches.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
