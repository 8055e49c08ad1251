"""Fine-tune the bundled all-MiniLM-L6-v2 as a cross-encoder that reads a question and a sentence and says how
likely the sentence answers it (``qa.cross.CrossEncoder`` runs the result in NumPy).

Input ``[CLS] question [SEP] sentence [SEP]`` (segment ids 0 and 1), at most ``MAX_TOKENS`` tokens; the hidden
states are mean-pooled (as the sentence model was trained to pool) and a linear head gives one logit. Loss, per
batch of groups (``training.cross_data``): a softmax over each answerable group's sentences (the answer must beat
its neighbours) plus binary cross-entropy on every pair (a logit that means something alone, for refusing). The
word embeddings stay frozen, so they are read from the bundled model and not shipped; every other tensor is
written in float16 to ``cross_encoder.safetensors`` with ``cross_encoder.json`` (settings and figures).

Runs on a GPU where one is lent (``--device cuda``: minutes) or on the CPU (``make train-cross``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

MAX_TOKENS = 96
MAX_QUESTION_TOKENS = 32
PAIRS_PER_GROUP = 8  # the answer and up to seven negatives a step


def auc(positive: list[float], negative: list[float]) -> float:
    """The probability that a random positive scores above a random negative (ties count half); NaN without both."""
    if not positive or not negative:
        return float("nan")
    p, n = np.asarray(positive)[:, None], np.asarray(negative)[None, :]
    return float((p > n).mean() + 0.5 * (p == n).mean())


def descend(loss: Any, params: list[Any], optim: Any, sched: Any) -> None:
    """One optimiser step on ``loss``: gradients clipped to norm 1, then the learning-rate schedule's step."""
    import torch

    optim.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    optim.step()
    sched.step()


def write_card(path: Path, card: dict[str, Any], figures: dict[str, Any], started: float) -> None:
    """The model card at ``path``: the run's settings ``card``, then its time and ``figures``."""
    card = {**card, "seconds": round(time.time() - started, 1), "figures": figures}
    path.write_text(json.dumps(card, indent=1) + "\n")
    print(f"wrote {path.parent} in {time.time() - started:.0f}s", flush=True)


def warmup_then_linear(optim: Any, steps: int, warm: int) -> Any:
    """A learning-rate schedule for ``optim``: rising over the first ``warm`` steps, then falling linearly to 0 at
    ``steps`` (``training.train_encoder`` trains with it too)."""
    import torch

    return torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / max(1, steps - warm))
    )


def fine_tuned_tensors(bert: Any) -> dict[str, Any]:
    """Every tensor of a fine-tuned ``BertModel`` but the frozen word embeddings (read from the bundled model, not
    shipped twice) and the position ids, in float16 on the CPU."""
    import torch

    return {
        name: tensor.detach().to("cpu", torch.float16).contiguous()
        for name, tensor in bert.state_dict().items()
        if name != "embeddings.word_embeddings.weight" and "position_ids" not in name
    }


def read_groups(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _data_file(folder: Path, split: str) -> Path:
    for name in (f"{split}.jsonl.gz", f"{split}.jsonl"):
        if (folder / name).exists():
            return folder / name
    raise FileNotFoundError(f"no {split}.jsonl(.gz) in {folder}; build it with python -m training.cross_data")


class Pairs:
    """The tokenisation of (question, sentence) pairs, for training and for the NumPy runner (``cross_runner``)."""

    def __init__(self, model_dir: Path) -> None:
        from tokenizers import Tokenizer

        self.tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tok.no_truncation()
        self.tok.no_padding()
        cls, sep = self.tok.token_to_id("[CLS]"), self.tok.token_to_id("[SEP]")
        if cls is None or sep is None:
            raise ValueError(f"{model_dir} has no [CLS] or [SEP] token; is it a BERT model?")
        self.cls, self.sep = cls, sep

    def ids(self, question: str, sentence: str) -> tuple[list[int], list[int]]:
        q = self.tok.encode(question, add_special_tokens=False).ids[:MAX_QUESTION_TOKENS]
        s = self.tok.encode(sentence, add_special_tokens=False).ids[: MAX_TOKENS - len(q) - 3]
        return [self.cls, *q, self.sep, *s, self.sep], [0] * (len(q) + 2) + [1] * (len(s) + 1)


def main() -> None:
    import torch
    from safetensors.torch import save_file
    from transformers import BertModel

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", type=Path, required=True, help="the bundled all-MiniLM-L6-v2 folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--lr", type=float, default=4e-5)
    parser.add_argument("--groups", type=int, default=32, help="question groups per batch")
    parser.add_argument("--limit", type=int, default=0, help="train on the first N groups only (a smoke test)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--measure-limit", type=int, default=0, help="measure on the first N groups of each split")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    torch.manual_seed(args.seed)
    started = time.time()

    pairs = Pairs(args.model)
    train = read_groups(_data_file(args.data, "train"))
    rng.shuffle(train)
    if args.limit:
        train = train[: args.limit]
    valid = read_groups(_data_file(args.data, "valid"))
    test = read_groups(_data_file(args.data, "test"))
    device = torch.device(args.device)
    bert = BertModel.from_pretrained(str(args.model), add_pooling_layer=False).float().to(device)
    bert.embeddings.word_embeddings.weight.requires_grad_(False)
    head = torch.nn.Linear(bert.config.hidden_size, 1).to(device)
    torch.nn.init.normal_(head.weight, std=0.02)
    torch.nn.init.zeros_(head.bias)
    params = [p for p in bert.parameters() if p.requires_grad] + list(head.parameters())
    optim = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    steps = max(1, int(args.epochs * len(train) / args.groups))
    warm = max(1, steps // 20)
    sched = warmup_then_linear(optim, steps, warm)

    def logits(batch: list[tuple[list[int], list[int]]]) -> torch.Tensor:
        n = max(len(i) for i, _ in batch)
        ids = torch.zeros((len(batch), n), dtype=torch.long)
        types = torch.zeros((len(batch), n), dtype=torch.long)
        mask = torch.zeros((len(batch), n), dtype=torch.float32)
        for r, (i, t) in enumerate(batch):
            ids[r, : len(i)] = torch.tensor(i)
            types[r, : len(t)] = torch.tensor(t)
            mask[r, : len(i)] = 1.0
        ids, types, mask = ids.to(device), types.to(device), mask.to(device)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            hidden = bert(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
        hidden = hidden.float() * mask[:, :, None]
        pooled = hidden.sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0)
        return head(pooled).squeeze(-1)

    def sample(group: dict) -> tuple[list[str], list[float]]:
        pos = [rng.choice(group["pos"])] if group["pos"] else []
        neg = list(group["neg"])
        rng.shuffle(neg)
        texts = pos + neg[: PAIRS_PER_GROUP - len(pos)]
        return texts, [1.0] * len(pos) + [0.0] * (len(texts) - len(pos))

    bce = torch.nn.BCEWithLogitsLoss()
    bert.train()
    order = list(range(len(train)))
    step = 0
    log_every = max(1, steps // 20)
    while step < steps:
        rng.shuffle(order)
        for at in range(0, len(order) - args.groups + 1, args.groups):
            if step >= steps:
                break
            batch: list[tuple[list[int], list[int]]] = []
            labels: list[float] = []
            bounds: list[tuple[int, int, bool]] = []
            for g in order[at : at + args.groups]:
                texts, y = sample(train[g])
                bounds.append((len(batch), len(texts), bool(train[g]["pos"])))
                batch += [pairs.ids(train[g]["question"], t) for t in texts]
                labels += y
            out = logits(batch)
            target = torch.tensor(labels, device=device)
            loss = bce(out, target)
            listwise = [-torch.log_softmax(out[s : s + n], 0)[0] for s, n, answerable in bounds if answerable and n > 1]
            if listwise:
                loss = loss + torch.stack(listwise).mean()
            descend(loss, params, optim, sched)
            step += 1
            if step % log_every == 0:
                print(f"step {step}/{steps} loss {loss.item():.4f} {time.time() - started:.0f}s", flush=True)

    bert.eval()

    @torch.no_grad()
    def measure(groups: list[dict]) -> dict[str, float]:
        top1, answerable_best, unanswerable_best = [], [], []
        for g in groups:
            texts = g["pos"][:1] + g["neg"]
            if not texts:
                continue
            scores = logits([pairs.ids(g["question"], t) for t in texts]).cpu().numpy()
            if g["pos"]:
                top1.append(float(scores[0] >= scores[1:].max()) if len(scores) > 1 else 1.0)
                answerable_best.append(float(scores.max()))
            else:
                unanswerable_best.append(float(scores.max()))
        return {
            "groups": len(groups),
            "top1": float(np.mean(top1)) if top1 else float("nan"),
            "answerability_auc": auc(answerable_best, unanswerable_best),
        }

    cut = args.measure_limit or None
    figures = {"valid": measure(valid[:cut]), "test": measure(test[:cut])}
    print(json.dumps(figures, indent=1), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    tensors = fine_tuned_tensors(bert)
    tensors["head.weight"] = head.weight.detach().to("cpu", torch.float16).reshape(-1).contiguous()
    tensors["head.bias"] = head.bias.detach().to("cpu", torch.float16).contiguous()
    # Two shards of about 11 MB each (a file that comes back from the accelerator's machine is at most 16 MiB);
    # ``qa.cross`` reads every ``cross_encoder*.safetensors`` of its folder.
    names = sorted(tensors)
    first = {n: tensors[n] for n in names if ".layer.0." in n or ".layer.1." in n or ".layer.2." in n}
    save_file(first, str(args.out / "cross_encoder-1.safetensors"))
    save_file({n: tensors[n] for n in names if n not in first}, str(args.out / "cross_encoder-2.safetensors"))
    card = {
        "format": 1,
        "max_tokens": MAX_TOKENS,
        "max_question_tokens": MAX_QUESTION_TOKENS,
        "pooling": "mean",
        "train_groups": len(train),
        "steps": steps,
        "epochs": args.epochs,
        "lr": args.lr,
        "groups_per_batch": args.groups,
        "seed": args.seed,
        "device": str(device),
    }
    write_card(args.out / "cross_encoder.json", card, figures, started)


if __name__ == "__main__":
    main()
