"""all-MiniLM-L6-v2's forward pass in NumPy, read from the same bundled files as the llama-index embedding.

Why a second implementation of one model: importing torch, transformers, sentence-transformers and llama-index's
HuggingFace embedding takes about 5 s on two cores, which is most of a cold ``qa ask`` and of a ``qa index`` that
adds one article. This module needs only NumPy, the ``tokenizers`` library and ``safetensors`` (both
already installed with transformers) and is ready in about 0.2 s. Its vectors equal the llama-index
ones to within 1e-6 (a test checks it on short, long, padded and truncated texts), so vectors from either can share
one index. On bulk batches it is no better than torch (from 10% faster to 25% slower, depending on the texts:
``python -m bench.engines``), so bulk indexing keeps the llama-index embedding; ``index.embedding.MiniLMEmbedder``
decides which one runs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_BATCH = 32  # most texts per forward pass
_PAD_SLACK = 1.25  # a batch's longest text is at most this many times its shortest: little work goes on padding

# erf(x) as a rational function on [-4, 4] (Eigen's float32 erf; beyond 4, erf is 1 in float32). Max abs error
# 4.4e-7 against float64 erf, and seven times faster than scipy.special.erf, which dominated the run time.
_ERF_P = [np.float32(a) for a in (
    -2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
    -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02,
)]  # fmt: skip
_ERF_Q = [np.float32(b) for b in (
    -1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03,
    -1.42647390514189e-02,
)]  # fmt: skip


def erf(x: np.ndarray) -> np.ndarray:
    """The error function of a float32 array, to within 4.4e-7."""
    x = np.clip(x, -4.0, 4.0)
    x2 = x * x
    p = x2 * _ERF_P[0]
    p += _ERF_P[1]
    for a in _ERF_P[2:]:
        p *= x2
        p += a
    p *= x
    q = x2 * _ERF_Q[0]
    q += _ERF_Q[1]
    for b in _ERF_Q[2:]:
        q *= x2
        q += b
    p /= q
    return p


Weights = tuple[np.ndarray, np.ndarray]  # (matrix or scale, bias)


@dataclass(frozen=True, slots=True)
class _Layer:
    """One encoder layer's weights, dense matrices transposed for ``x @ w``."""

    qkv: Weights  # query, key and value projections side by side
    attn_out: Weights
    attn_norm: Weights
    up: Weights
    down: Weights
    out_norm: Weights


class NumpyMiniLM:
    """The BERT encoder of all-MiniLM-L6-v2, mean pooling and L2 normalisation, as sentence-transformers runs it."""

    def __init__(self, model_dir: str | Path, tuned: dict[str, np.ndarray] | None = None) -> None:
        """The model of ``model_dir``; ``tuned`` replaces tensors by name (a fine-tuned copy's:
        ``training.cross_runner``).

        Raises:
            ValueError: not a BERT model with GELU activations, or ``tuned`` names a tensor the model lacks.
        """
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = Path(model_dir)
        config = json.loads((folder / "config.json").read_text())
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise ValueError(f"{folder} is not a BERT model with GELU activations; cannot run it in NumPy")
        max_length = json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"]
        self.dim: int = config["hidden_size"]
        self._heads: int = config["num_attention_heads"]
        self._eps: float = config["layer_norm_eps"]
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length)
        self._tokenizer.no_padding()
        w = load_file(str(folder / "model.safetensors"))
        unknown = sorted(set(tuned or {}) - set(w))
        if unknown:
            raise ValueError(f"{folder} has no tensors named {', '.join(unknown[:3])}; are the weights for this model?")
        for name, tensor in (tuned or {}).items():
            w[name] = tensor.astype(np.float32)
        self._word = w["embeddings.word_embeddings.weight"]
        self._position = w["embeddings.position_embeddings.weight"]
        self._token_types = w["embeddings.token_type_embeddings.weight"]
        self._embed_norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self._layers: list[_Layer] = []
        for i in range(config["num_hidden_layers"]):
            p = f"encoder.layer.{i}."

            def dense(name: str, p: str = p) -> Weights:
                return np.ascontiguousarray(w[p + name + ".weight"].T), w[p + name + ".bias"]

            def norm(name: str, p: str = p) -> Weights:
                return w[p + name + ".LayerNorm.weight"], w[p + name + ".LayerNorm.bias"]

            q, k, v = (w[f"{p}attention.self.{n}.weight"] for n in ("query", "key", "value"))
            qb, kb, vb = (w[f"{p}attention.self.{n}.bias"] for n in ("query", "key", "value"))
            self._layers.append(
                _Layer(
                    qkv=(np.ascontiguousarray(np.concatenate([q, k, v]).T), np.concatenate([qb, kb, vb])),
                    attn_out=dense("attention.output.dense"),
                    attn_norm=norm("attention.output"),
                    up=dense("intermediate.dense"),
                    down=dense("output.dense"),
                    out_norm=norm("output"),
                )
            )

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised sentence vectors, one row per text, in the caller's order."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        rows: list[int] = []
        for i in order:
            if rows and (len(rows) == _BATCH or len(encodings[i].ids) > _PAD_SLACK * len(encodings[rows[0]].ids)):
                out[rows] = self._forward([encodings[r].ids for r in rows])
                rows = []
            rows.append(i)
        out[rows] = self._forward([encodings[r].ids for r in rows])
        return out

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        pooled = self.pooled(batch)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def pooled(self, batch: list[list[int]], segments: list[list[int]] | None = None) -> np.ndarray:
        """The mean of each text's last hidden states (token ids, and segment ids where a text is a pair)."""
        b, n, d, heads = len(batch), max(len(ids) for ids in batch), self.dim, self._heads
        ids = np.zeros((b, n), dtype=np.int64)
        types = np.zeros((b, n), dtype=np.int64)
        mask = np.zeros((b, n), dtype=np.float32)
        for row, tokens in enumerate(batch):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1.0
            if segments is not None:
                types[row, : len(tokens)] = segments[row]
        segment = self._token_types[types] if segments is not None else self._token_types[0]
        x = self._word[ids] + self._position[:n] + segment
        x = self._layer_norm(x.reshape(b * n, d), self._embed_norm)
        # Padding keys get the lowest float as their score, so they take no attention (as in transformers).
        key_bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        head_dim = d // heads
        scale = np.float32(1.0 / math.sqrt(head_dim))
        for layer in self._layers:
            qkv = self._dense(x, layer.qkv).reshape(b, n, 3, heads, head_dim)
            q = qkv[:, :, 0].transpose(0, 2, 1, 3)
            k = qkv[:, :, 1].transpose(0, 2, 3, 1)
            v = qkv[:, :, 2].transpose(0, 2, 1, 3)
            scores = (q @ k) * scale + key_bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(b * n, d)
            x = self._layer_norm(self._dense(context, layer.attn_out) + x, layer.attn_norm)
            h = self._dense(x, layer.up)
            h *= 0.5 * (1.0 + erf(h * np.float32(1.0 / math.sqrt(2.0))))  # GELU in its erf form, as BERT's
            x = self._layer_norm(self._dense(h, layer.down) + x, layer.out_norm)
        hidden = x.reshape(b, n, d) * mask[:, :, None]
        return hidden.sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)

    @staticmethod
    def _dense(x: np.ndarray, weights: Weights) -> np.ndarray:
        out = x @ weights[0]
        out += weights[1]
        return out

    def _layer_norm(self, x: np.ndarray, weights: Weights) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        centred = x - mean
        variance = (centred * centred).mean(axis=-1, keepdims=True)
        return centred / np.sqrt(variance + np.float32(self._eps)) * weights[0] + weights[1]
