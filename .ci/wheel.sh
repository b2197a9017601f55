#!/usr/bin/env bash
# The wheel as a user gets it: built from a clean clone, installed non-editable into a fresh venv, run from an empty
# folder. Fails when a command shows a traceback, writes into the working folder, or a top-level `cogs` is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q . "$work/src"  # what a user clones: the committed tree (commit before running this)
$PY -m pip wheel -q --no-deps -w "$work/dist" "$work/src"
whl=$(ls "$work"/dist/*.whl)
echo "built $(basename "$whl")"
$PY -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q "$whl"
"$work/venv/bin/python" - "$whl" <<'PY'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
tops = sorted({n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")})
assert tops == ["bot"], f"the wheel installs more than the bot package: {tops}"
need = ["bot/config/settings.toml", "bot/config/sources.toml", "bot/config/prompts/framing.md",
        "bot/config/.env.example", "bot/cogs/watch.py", "bot/data/demo_discussion.json",
        "bot/data/framing.jsonl", "bot/data/framing_weights.json", "bot/text/tlds.txt"]
missing = [n for n in need if n not in names]
assert not missing, f"the wheel lacks {missing}"
PY
empty="$work/empty"
mkdir "$empty"
export XDG_CONFIG_HOME="$work/xdg/config" XDG_DATA_HOME="$work/xdg/data" XDG_CACHE_HOME="$work/xdg/cache"
cp="$work/venv/bin/counterpoint"
run() {  # run a command in the empty folder; fail on a traceback or a non-zero exit
    echo "== counterpoint $*"
    (cd "$empty" && env -u PYTHONPATH COUNTERPOINT_LLM__BASE_URL=http://127.0.0.1:9/v1 "$cp" "$@") >"$work/out" 2>"$work/err" \
        || { cat "$work/out" "$work/err"; echo "counterpoint $* failed"; exit 1; }
    if grep -q Traceback "$work/err"; then cat "$work/err"; exit 1; fi
    tail -n 3 "$work/out"
}
run demo
run check "China will win the AI race"
run doctor
(cd "$empty" && "$work/venv/bin/python" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('cogs') is not None)") \
    || { echo "a top-level cogs module is importable"; exit 1; }
if [ -n "$(ls -A "$empty")" ]; then echo "written into the working folder:"; ls -A "$empty"; exit 1; fi
echo "wheel OK: demo, check and doctor ran from an empty folder and wrote nothing there"
