"""The cross-encoder probe's parts (docs/TUNING.md, thirteenth session) on a tiny slice, so that the measurement
can be re-run: its training groups from SQuAD-format data, a real training run of ``training/train_cross.py`` on
the CPU, and the NumPy runner answering as the trained torch model does."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.embedding import bundled_model_path
from training import cross_data
from training.cross_runner import CrossEncoder, CrossEncoderUnavailableError

ROOT = Path(__file__).resolve().parent.parent
CONTEXT = (
    "Chopin was born in what was then the Duchy of Warsaw, and grew up in Warsaw. "
    "A child prodigy, he completed his musical education and composed his earlier works in Warsaw. "
    "At 21 he settled in Paris, where he gave only some 30 public performances. "
    "He supported himself by selling his compositions and teaching piano, for which he was in high demand."
)


def _squad(path: Path) -> Path:
    answer = "Paris"
    data = {
        "data": [
            {
                "title": "Frédéric_Chopin",
                "paragraphs": [
                    {
                        "context": CONTEXT,
                        "qas": [
                            {
                                "id": "a",
                                "question": "In which city did the composer settle at the age of 21?",
                                "answers": [{"text": answer, "answer_start": CONTEXT.index(answer)}],
                                "is_impossible": False,
                            },
                            {
                                "id": "b",
                                "question": "How many students did Chopin teach in Warsaw?",
                                "answers": [],
                                "is_impossible": True,
                            },
                        ],
                    }
                ],
            }
        ]
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_groups_hold_the_answering_sentence_and_near_misses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cross_data, "ABLATE", 1.0)
    groups = list(cross_data.squad_groups(_squad(tmp_path / "train.json"), random.Random(0), "squad"))
    answerable, unanswerable = groups
    assert answerable.pos == ["At 21 he settled in Paris, where he gave only some 30 public performances."]
    # The answering sentence with the answer cut out: a near-miss that keeps the question's words.
    assert "At 21 he settled in , where he gave only some 30 public performances." in answerable.neg
    assert all("Paris" not in n for n in answerable.neg)
    assert unanswerable.pos == [] and len(unanswerable.neg) == 4
    assert cross_data.split_of("Frédéric_Chopin", frozenset({"Frédéric_Chopin"})) == "test"


def test_a_tiny_training_run_writes_weights_the_numpy_runner_reads_as_torch_does(tmp_path: Path) -> None:
    groups = list(cross_data.squad_groups(_squad(tmp_path / "train.json"), random.Random(0), "squad"))
    data = tmp_path / "data"
    data.mkdir()
    for split in ("train", "valid", "test"):
        (data / f"{split}.jsonl").write_text("".join(json.dumps(g.__dict__) + "\n" for g in groups))
    model, out = Path(bundled_model_path()), tmp_path / "weights"
    run = subprocess.run(
        [
            *(sys.executable, "-m", "training.train_cross", "--data", str(data), "--model", str(model)),
            *("--out", str(out), "--device", "cpu", "--epochs", "2", "--groups", "1", "--lr", "1e-4"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    card = json.loads((out / "cross_encoder.json").read_text())
    assert card["steps"] == 4 and set(card["figures"]) == {"valid", "test"}
    assert len(sorted(out.glob("cross_encoder-*.safetensors"))) == 2

    import torch
    from safetensors.torch import load_file
    from transformers import BertModel

    from training.train_cross import Pairs

    tuned: dict[str, torch.Tensor] = {}
    for shard in sorted(out.glob("cross_encoder-*.safetensors")):
        tuned.update(load_file(str(shard)))
    head_w, head_b = tuned.pop("head.weight").float(), tuned.pop("head.bias").float()
    bert = BertModel.from_pretrained(str(model), add_pooling_layer=False).float().eval()
    bert.load_state_dict({k: v.float() for k, v in tuned.items()}, strict=False)
    pairs = Pairs(model)
    question = groups[0].question
    sentences = groups[0].pos + groups[0].neg
    expected = []
    with torch.no_grad():
        for sentence in sentences:
            ids, types = pairs.ids(question, sentence)
            hidden = bert(input_ids=torch.tensor([ids]), token_type_ids=torch.tensor([types])).last_hidden_state
            expected.append(float(hidden.mean(1)[0] @ head_w + head_b))
    got = CrossEncoder(model, out).score(question, sentences)
    np.testing.assert_allclose(got, expected, atol=1e-3)


def test_the_runner_says_what_to_do_without_weights_or_with_weights_of_another_model(tmp_path: Path) -> None:
    with pytest.raises(CrossEncoderUnavailableError, match=r"training\.train_cross"):
        CrossEncoder(bundled_model_path(), tmp_path).score("a question?", ["A sentence."])
    from safetensors.numpy import save_file

    save_file(
        {
            "encoder.layer.9.output.dense.bias": np.zeros(4, np.float16),
            "head.weight": np.zeros(384, np.float16),
            "head.bias": np.zeros(1, np.float16),
        },
        str(tmp_path / "cross_encoder-1.safetensors"),
    )
    (tmp_path / "cross_encoder.json").write_text(json.dumps({"max_tokens": 96, "max_question_tokens": 32}))
    with pytest.raises(CrossEncoderUnavailableError, match=r"encoder\.layer\.9.*training\.train_cross"):
        CrossEncoder(bundled_model_path(), tmp_path).score("a question?", ["A sentence."])


def test_a_copy_cut_short_gives_its_complete_articles(tmp_path: Path) -> None:
    whole = _squad(tmp_path / "whole.json").read_text(encoding="utf-8")
    data = json.loads(whole)["data"]
    two = json.dumps({"data": [data[0], {**data[0], "title": "Second"}]})
    cut = tmp_path / "cut.json"
    cut.write_text(two[: two.index('"Second"') + 40], encoding="utf-8")  # ends inside the second article
    assert [a["title"] for a in cross_data.squad_articles(cut)] == ["Frédéric_Chopin"]
    assert [a["title"] for a in cross_data.squad_articles(tmp_path / "whole.json")] == ["Frédéric_Chopin"]
