"""The refusal probe (scripts/refusal_probe.py, docs/TUNING.md eleventh session) on a tiny slice, so that the
measurement it reports can be re-run: the fit learns which signal tells unanswerable questions apart, and the whole
probe runs through the real pipeline (real index, real bundled model)."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import numpy as np
from loading import load_script

ROOT = Path(__file__).resolve().parent.parent


def _probe() -> ModuleType:
    return load_script("scripts/refusal_probe.py", "refusal_probe")


def test_the_fit_refuses_by_the_signal_that_tells_unanswerables_apart() -> None:
    probe = _probe()
    rng = np.random.default_rng(0)
    n = 400
    answerable = rng.random(n) < 0.7
    x = rng.normal(0.6, 0.1, size=(n, len(probe.SIGNALS)))
    coverage = probe.SIGNALS.index("coverage")
    x[:, coverage] = np.where(answerable, rng.normal(0.6, 0.1, n), rng.normal(0.2, 0.1, n))
    policy = probe.with_threshold(probe.fit(x, answerable, penalty=1.0), x[answerable], 0.05)
    assert abs(policy.weights[1 + coverage]) == np.abs(policy.weights[1:]).max()
    refused = policy.refuse(x)
    assert refused[answerable].mean() <= 0.06
    assert refused[~answerable].mean() >= 0.9


SLICE = {
    "version": "v2.0",
    "data": [
        {
            "title": "Rivers",
            "paragraphs": [
                {
                    "context": "The Danube flows through ten countries. It rises in the Black Forest.",
                    "qas": [
                        {
                            "id": "q1",
                            "question": "How many countries does the Danube cross?",
                            "answers": [{"text": "ten"}],
                        },
                        {"id": "q2", "question": "Where does the Danube rise?", "answers": [{"text": "Black Forest"}]},
                        {
                            "id": "q3",
                            "question": "How many bridges cross the Danube?",
                            "answers": [],
                            "is_impossible": True,
                        },
                    ],
                }
            ],
        },
        {
            "title": "Mountains",
            "paragraphs": [
                {
                    "context": "Mont Blanc is the highest peak of the Alps. It was first climbed in 1786.",
                    "qas": [
                        {"id": "q4", "question": "When was Mont Blanc first climbed?", "answers": [{"text": "1786"}]},
                        {
                            "id": "q5",
                            "question": "Which peak of the Alps is the highest?",
                            "answers": [{"text": "Mont Blanc"}],
                        },
                        {
                            "id": "q6",
                            "question": "When was Mont Blanc first skied?",
                            "answers": [],
                            "is_impossible": True,
                        },
                    ],
                }
            ],
        },
    ],
}


def test_the_probe_records_the_pipeline_and_reports_both_policies(tmp_path: Path) -> None:
    path = tmp_path / "train.json"
    path.write_text(json.dumps(SLICE))
    own = tmp_path / "own.jsonl"
    own.write_text(
        json.dumps({"id": "o1", "question": "What did Croatia say about military blocs?", "answerable": True})
        + "\n"
        + json.dumps({"id": "o2", "question": "How do I bake sourdough bread?", "answerable": False})
        + "\n"
    )
    report = _probe().main([str(path), "--held-out", "Mountains.txt", "--own", str(own)])
    assert report["train"]["learned"]["answerable"] == 2 and report["train"]["learned"]["unanswerable"] == 1
    assert report["held_out"]["hand_set"]["answerable"] == 2 and report["held_out"]["hand_set"]["unanswerable"] == 1
    assert report["own"]["hand_set"] == {
        "answerable": 1,
        "false_refusals": 0.0,  # the seed corpus answers what Croatia said
        "unanswerable": 1,
        "unanswerables_refused": 1.0,  # and not how to bake bread
    }
    assert len(report["weights"]) == 1 + len(report["signals"])
