"""The answer encoder's parts (docs/TUNING.md, twenty-third session) on a tiny slice, so that the measurement can be
re-run: the team's news questions it trains on, its groups and splits, a real training run of
``training/train_encoder.py`` on the CPU, and the NumPy encoder reading the written weights as torch does."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from index.embedding import bundled_model_path
from training import encoder_data

ROOT = Path(__file__).resolve().parent.parent
NEWS = ROOT / "training" / "news_qa"


def _rows() -> list[dict]:
    return [json.loads(line) for line in (NEWS / "questions.jsonl").read_text(encoding="utf-8").splitlines()]


def _train(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m training.train_encoder ARGS``, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "training.train_encoder", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_the_news_questions_quote_their_articles_verbatim_and_name_what_answers() -> None:
    rows = _rows()
    articles = {p.name: p.read_text(encoding="utf-8") for p in (NEWS / "articles").iterdir()}
    assert len(rows) == 2880 and len(articles) == 96
    assert len({r["id"] for r in rows}) == len(rows)
    for row in rows:
        text = articles[row["article"]]
        assert row["article"].startswith(row["writer"] + "_")
        if row["answerable"]:
            assert row["evidence"] and all(q in text for q in row["evidence"]), row["id"]
            quoted = " ".join(row["evidence"]).lower()
            assert all(any(alt.lower() in quoted for alt in a.split("|")) for a in row["answer_contains"]), row["id"]
        else:
            assert row["kind"] in ("near_miss", "off_topic") and not row["evidence"], row["id"]


def test_groups_hold_the_answering_sentence_and_keep_writers_and_articles_apart() -> None:
    groups = encoder_data.news_groups(NEWS, random.Random(0))
    answerable = [g for g in groups if g.pos]
    asked = sum(1 for r in _rows() if r["answerable"] and r["writer"] in encoder_data.ENCODER_WRITERS)
    assert len(answerable) >= 0.99 * asked  # an evidence that spans two of the splitter's sentences is skipped
    for g in answerable:
        assert not set(g.pos) & set(g.neg) and len(g.neg) >= 8
    assert all(not g.pos and g.kind == "near_miss" for g in groups if g not in answerable)
    # The news-analysis writers (w17–w24) validate the second reading; the encoder never trains on them.
    assert {g.article.split("_")[0] for g in groups} == encoder_data.ENCODER_WRITERS
    splits: dict[str, set[str]] = {}
    for g in groups:
        splits.setdefault(g.article, set()).add(g.split)
        assert (g.split == "valid") == (g.article.split("_")[0] in encoder_data.VALID_WRITERS)
    assert all(len(s) == 1 for s in splits.values())


def test_a_tiny_training_run_writes_weights_the_numpy_encoder_reads_as_torch_does(tmp_path: Path) -> None:
    rng = random.Random(0)
    groups = [g for g in encoder_data.news_groups(NEWS, rng) if g.pos]
    data = tmp_path / "data"
    data.mkdir()
    for split, chosen in (("train", groups[:8]), ("valid", groups[-2:]), ("test", groups[8:10])):
        (data / f"{split}.jsonl").write_text("".join(json.dumps(asdict(g)) + "\n" for g in chosen))
    model, out = Path(bundled_model_path()), tmp_path / "weights"
    run = _train(
        *("--data", str(data), "--model", str(model), "--out", str(out)),
        *("--epochs", "2", "--batch", "4", "--news-weight", "1", "--lr", "1e-4"),
    )
    assert run.returncode == 0, run.stderr[-2000:]
    card = json.loads((out / "answer_encoder.json").read_text())
    assert card["steps"] == 4 and card["figures"]["valid"]["groups"] == 2
    bundled = _train("--data", str(data), "--model", str(model), "--out", str(tmp_path / "none"), "--measure-only")
    assert bundled.returncode == 0, bundled.stderr[-2000:]
    assert json.loads(bundled.stdout.strip().splitlines()[-1])["test"]["groups"] == 2  # the bundled model's figures
    assert not (tmp_path / "none").exists()

    import torch
    from safetensors.numpy import load_file as load_numpy
    from safetensors.torch import load_file
    from transformers import BertModel

    from index.minilm import NumpyMiniLM

    tuned = load_file(str(out / "answer_encoder.safetensors"))
    assert "embeddings.word_embeddings.weight" not in tuned  # frozen: read from the bundled model
    bert = BertModel.from_pretrained(str(model), add_pooling_layer=False).float().eval()
    before = bert.encoder.layer[0].attention.self.query.weight.detach().clone()
    bert.load_state_dict({k: v.float() for k, v in tuned.items()}, strict=False)
    assert not torch.allclose(before, bert.encoder.layer[0].attention.self.query.weight)  # the training moved it
    texts = [groups[0].question, *groups[0].pos]
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model / "tokenizer.json"))
    tokenizer.no_padding()  # the file pads every text to 128 tokens
    expected = []
    with torch.no_grad():
        for text in texts:
            ids = torch.tensor([tokenizer.encode(text).ids])
            pooled = bert(input_ids=ids).last_hidden_state.mean(1)[0]
            expected.append((pooled / pooled.norm()).numpy())
    got = NumpyMiniLM(model, load_numpy(str(out / "answer_encoder.safetensors"))).encode(texts)
    np.testing.assert_allclose(got, np.stack(expected), atol=1e-4)


def test_training_without_groups_says_how_to_write_them(tmp_path: Path) -> None:
    run = _train("--data", str(tmp_path), "--model", str(bundled_model_path()), "--out", str(tmp_path / "weights"))
    assert run.returncode != 0 and "python -m training.encoder_data" in run.stderr
    assert not (tmp_path / "weights").exists()
