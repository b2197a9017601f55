"""`counterpoint eval` and the pure metrics behind it (bot/evaluate.py)."""

from __future__ import annotations

import json

import pytest

from bot.__main__ import main
from bot.errors import InputError
from bot.framing.evaluate import Item, Outcome, load_dataset, metrics, per_item, render_text, report
from bot.models import LABELS
from tests.fakes.fake_llm import unused_base_url
from tests.fakes.framing_kit import keyword_judge, threaded_fake_llm, write_jsonl

ROWS = [  # sentences written for this test
    {"id": "a1", "text": "China is winning the AI war against America.", "label": "frames"},
    {"id": "a2", "text": "Die USA verlieren den KI-Wettlauf gegen China.", "label": "frames"},
    {"id": "a3", "text": "Honestly the AI race with China is the only thing that matters now.", "label": "frames",
     "borderline": True},
    {"id": "a4", "text": "Qwen 3 is great for coding.", "label": "mentions"},
    {"id": "a5", "text": "Stop framing open models as a US vs China race; it's about access.", "label": "mentions"},
    {"id": "a6", "text": "Nvidia vs AMD for local inference: who wins?", "label": "other"},
    {"id": "a7", "text": "thanks, that fixed it", "label": "other", "parent": "China is winning the AI war."},
]  # fmt: skip


def outcome(gold: str, predicted: str, *, passed: bool = True, borderline: bool = False) -> Outcome:
    item = Item(f"{gold}-{predicted}", "text", gold, borderline)  # type: ignore[arg-type]
    return Outcome(item, predicted, passed, "lexical", 0.5, 0.001)  # type: ignore[arg-type]


# ---- pure metrics ---------------------------------------------------------------------------------------------


def test_metrics_on_a_known_confusion():
    outs = (
        [outcome("frames", "frames")] * 6
        + [outcome("frames", "mentions", passed=False)] * 2
        + [outcome("frames", "other")] * 2
        + [outcome("mentions", "frames")] * 2
        + [outcome("mentions", "mentions")] * 5
        + [outcome("other", "other", passed=False)] * 13
    )
    m = metrics(outs)
    assert (m["tp"], m["fp"], m["fn"]) == (6, 2, 4)
    assert m["precision"] == 0.75 and m["recall"] == 0.6
    assert m["f1"] == pytest.approx(2 * 0.75 * 0.6 / 1.35, abs=1e-4)
    assert m["confusion"]["frames"] == {"frames": 6, "mentions": 2, "other": 2}
    assert m["confusion"]["mentions"] == {"frames": 2, "mentions": 5, "other": 0}
    assert m["confusion"]["other"]["other"] == 13 and sum(m["confusion"]["other"].values()) == 13
    assert m["prefilter"]["recall"] == 0.8  # 8 of 10 frames passed
    assert m["prefilter"]["pass_rate"] == round(15 / 30, 4)
    assert m["false_fire_rate"] == round(2 / 20, 4)


def test_all_negative_sets_have_undefined_precision_and_recall():
    m = metrics([outcome("other", "other"), outcome("mentions", "mentions")])
    assert m["precision"] is None and m["recall"] is None and m["f1"] is None
    assert m["false_fire_rate"] == 0.0 and m["prefilter"]["recall"] is None
    fired = metrics([outcome("other", "frames"), outcome("other", "other")])
    assert fired["precision"] == 0.0 and fired["false_fire_rate"] == 0.5


def test_report_keeps_borderline_apart_and_renders():
    outs = [outcome("frames", "frames"), outcome("frames", "other", borderline=True), outcome("other", "other")]
    r = report(outs, dataset="x.jsonl", engine="lexical", model_calls=0)
    assert r["headline"]["n"] == 2 and r["headline"]["recall"] == 1.0
    assert r["borderline"]["n"] == 1 and r["borderline"]["recall"] == 0.0
    assert r["median_ms_per_item"] == 1.0 and r["engines_used"] == {"lexical": 3}
    text = render_text(r)
    assert "Headline, not borderline (n=2)" in text and "Borderline, reported apart (n=1)" in text
    json.dumps(r)


def test_per_item_has_exactly_the_contract_keys():
    assert set(per_item(outcome("frames", "other"))) == {"id", "label", "predicted", "prefilter_pass", "engine",
                                                         "score"}  # fmt: skip


# ---- loading ------------------------------------------------------------------------------------------------------


def test_load_dataset_reads_optional_fields(tmp_path):
    items = load_dataset(write_jsonl(tmp_path / "set.jsonl", ROWS))
    assert [i.id for i in items] == [r["id"] for r in ROWS]
    assert items[2].borderline and not items[0].borderline and items[6].parent == "China is winning the AI war."


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ('{"id": "x", "text": "t", "label": "frames"', "line 2 is not valid JSON"),
        ('{"id": "x", "label": "frames"}', "line 2 has no 'text' field"),
        ('{"id": "x", "text": "t", "label": "framing"}', "line 2: 'label' must be one of"),
        ('["not", "an", "object"]', "line 2 is not a JSON object"),
        (
            '{"id": "x", "label": "frames", "text": ' + "[" * 50_000 + "]" * 50_000 + "}",
            r"line 2 is not valid JSON \(nested deeper than 64 levels\)",
        ),
    ],
)
def test_malformed_lines_name_the_file_and_line(tmp_path, line, needle):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n" + line + "\n")
    with pytest.raises(InputError, match=needle) as info:
        load_dataset(path)
    assert str(path) in str(info.value)


# ---- the CLI ------------------------------------------------------------------------------------------------------


def run_eval(capsys, *args: str) -> tuple[int, str, str]:
    rc = main(["eval", *args])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def test_eval_json_report_agrees_with_per_item_lines(tmp_path, capsys):
    data = write_jsonl(tmp_path / "set.jsonl", ROWS)
    rc, out, _ = run_eval(capsys, "--dataset", str(data), "--engine", "lexical", "--json")
    assert rc == 0
    summary = json.loads(out)
    rc, out, err = run_eval(capsys, "--dataset", str(data), "--engine", "lexical", "--per-item")
    assert rc == 0 and "Headline" in err  # the summary goes to stderr when stdout is per-item JSONL
    lines = [json.loads(line) for line in out.splitlines()]
    assert [x["id"] for x in lines] == [r["id"] for r in ROWS]
    assert all(set(x) == {"id", "label", "predicted", "prefilter_pass", "engine", "score"} for x in lines)
    assert all(x["predicted"] in LABELS and x["engine"] == "lexical" for x in lines)
    head = [x for x, r in zip(lines, ROWS, strict=True) if not r.get("borderline")]
    tp = sum(x["label"] == x["predicted"] == "frames" for x in head)
    fp = sum(x["predicted"] == "frames" != x["label"] for x in head)
    assert (summary["headline"]["tp"], summary["headline"]["fp"]) == (tp, fp)
    assert summary["headline"]["n"] == 6 and summary["borderline"]["n"] == 1
    assert summary["model_calls"] == 0 and summary["engines_used"] == {"lexical": 7}


def test_eval_human_output_and_progress_for_long_sets(tmp_path, capsys):
    rows = [dict(ROWS[i % len(ROWS)], id=f"r{i}") for i in range(120)]
    rc, out, err = run_eval(capsys, "--dataset", str(write_jsonl(tmp_path / "long.jsonl", rows)), "--engine",
                            "lexical")  # fmt: skip
    assert rc == 0 and out.startswith("Dataset ") and "confusion" in out
    assert "eval: 50/120 items" in err and "eval: 100/120 items" in err


def test_eval_works_on_an_all_negative_chatter_file(tmp_path, capsys):
    rows = [{"id": f"c{i}", "text": t, "label": "other"} for i, t in enumerate(["lol", "ollama crashed", "+1"])]
    rc, out, _ = run_eval(capsys, "--dataset", str(write_jsonl(tmp_path / "chat.jsonl", rows)), "--json")
    headline = json.loads(out)["headline"]
    assert rc == 0 and headline["precision"] is None and headline["false_fire_rate"] == 0.0


def test_eval_malformed_dataset_exits_2_naming_file_and_line(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n\n" + "{oops\n")
    rc, out, err = run_eval(capsys, "--dataset", str(path), "--engine", "lexical")
    assert rc == 2 and out == ""
    assert str(path) in err and "line 3" in err and "Traceback" not in err
    rc, _, err = run_eval(capsys, "--dataset", str(tmp_path / "missing.jsonl"))
    assert rc == 2 and "does not exist" in err


def test_eval_with_the_model_counts_calls_only_for_prefilter_passes(tmp_path, capsys, monkeypatch):
    data = write_jsonl(tmp_path / "set.jsonl", ROWS)
    with threaded_fake_llm(keyword_judge) as fake:
        monkeypatch.setenv("COUNTERPOINT_LLM__BASE_URL", fake.base_url)
        monkeypatch.setenv("COUNTERPOINT_LLM__MAX_RETRIES", "0")
        rc, out, _ = run_eval(capsys, "--dataset", str(data), "--engine", "llm", "--per-item")
        served = len(fake.requests)
    lines = [json.loads(line) for line in out.splitlines()]
    assert rc == 0
    passed = [x for x in lines if x["prefilter_pass"]]
    assert served == len(passed) > 0
    assert all(x["engine"] == "llm" for x in passed) and all(x["engine"] == "lexical" for x in lines if x not in passed)


def test_eval_engine_llm_without_a_server_exits_3(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COUNTERPOINT_LLM__BASE_URL", unused_base_url())
    monkeypatch.setenv("COUNTERPOINT_LLM__MAX_RETRIES", "0")
    rc, _, err = run_eval(capsys, "--dataset", str(write_jsonl(tmp_path / "s.jsonl", ROWS)), "--engine", "llm")
    assert rc == 3 and "No model answers" in err


def test_eval_reports_per_language(tmp_path, capsys):
    rows = [
        {"id": "1", "text": "China is winning the AI race against America.", "label": "frames", "lang": "en"},
        {"id": "2", "text": "在人工智能竞赛中，中国正在赶超美国。", "label": "frames", "lang": "zh"},
        {"id": "3", "text": "Qwen 3 is great for coding.", "label": "mentions", "lang": "en"},
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    assert main(["eval", "--dataset", str(path), "--engine", "lexical", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc["per_language"]) == {"en", "zh"} and doc["per_language"]["en"]["n"] == 2
    assert doc["per_language"]["zh"]["recall"] == 1.0
