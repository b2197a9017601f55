"""`python -m bot.framing.fit [--check] [--out FILE]`: fit the offline engine's weights on the bundled labelled
set, print the cross-validated figures (grouped by source URL, per language, borderline apart) and write
bot/data/framing_weights.json with those figures inside, so the numbers shipped are the numbers measured.

The bias is shifted so that the threshold picked out of sample sits at probability 0.75, the default
`framing.lexical_threshold`. --check only prints the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from bot.framing.bundled import chatter_items, framing_items
from bot.framing.crossval import FOLDS, TARGET_PRECISION, cross_validate, rows_of, summary, train
from bot.framing.weights import OPERATING_P, WEIGHTS_FILE, Weights


def _fmt(x: object) -> str:
    return f"{x:.3f}" if isinstance(x, float) else "n/a" if x is None else str(x)


def render(cv: dict) -> str:
    h, b, c, p = cv["headline"], cv["borderline"], cv["chatter"], cv["prefilter"]
    lines = [
        f"Cross-validated ({FOLDS} folds grouped by source URL; thresholds picked inside each training fold)",
        f"headline (not borderline): precision {_fmt(h['precision'])}  recall {_fmt(h['recall'])}  "
        f"n={h['n']} ({h['frames']} frames)",
        f"borderline, apart: precision {_fmt(b['precision'])}  recall {_fmt(b['recall'])}  n={b['n']}",
        f"ordinary chatter: {c['fires']}/{c['n']} fire ({100 * (c['false_fire_rate'] or 0):.2f}%)",
        f"prefilter: recall {p['recall_on_frames']:.3f} on all framing-set frames; "
        f"passes {100 * p['chatter_pass_rate']:.1f}% of ordinary chatter",
        "| lang | precision | recall | n | frames |",
        "|---|---|---|---|---|",
    ]
    for lang, m in cv["per_language"].items():
        lines.append(f"| {lang} | {_fmt(m['precision'])} | {_fmt(m['recall'])} | {m['n']} | {m['frames']} |")
    return "\n".join(lines)


def fit_and_measure() -> tuple[Weights, dict]:
    rows = rows_of(framing_items(), chatter=False) + rows_of(chatter_items(), chatter=True)
    cv = summary(rows, cross_validate(rows))
    weights, threshold = train(rows)
    shift = math.log(OPERATING_P / (1 - OPERATING_P)) - threshold  # the picked cut lands on p = OPERATING_P
    meta = {
        "note": "written by `python -m bot.framing.fit`; bias shifted so the out-of-sample threshold is p=0.75",
        "target_precision": TARGET_PRECISION,
        "trained_on": {"framing": sum(not r.chatter for r in rows), "chatter": sum(r.chatter for r in rows)},
        "cross_validated": cv,
    }
    return Weights(weights.bias + shift, weights.weights, meta), cv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.framing.fit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="print the cross-validated figures, write nothing")
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    args = parser.parse_args(argv)
    weights, cv = fit_and_measure()
    print(render(cv))
    if not args.check:
        doc = json.dumps(weights.to_json(), ensure_ascii=False, indent=1, sort_keys=False)
        args.out.write_text(doc + "\n", encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
