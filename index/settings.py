"""The project's one settings object (environment prefix ``QA_``), built by the entry point and passed down."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EMBED_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
EMBED_DIM = 384
PREFIX = "QA_"  # of every setting's environment variable
TEST_HOOKS = "QA_TEST_"  # the crash tests' hooks (tests/test_crash.py), read by the indexer, not settings
# Settings that were, with why they are gone: a user who still sets one is told rather than silently ignored.
RETIRED = {
    "QA_RERANKER": "the language-model reranker was retired in the twenty-second session (it lowered first citation; "
    "README, 'Retired')",
}


class Settings(BaseSettings):
    """Everything the index, the answerer and the UI can be told, validated once."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True)

    data_dir: Path = Field(Path(".qa-data"), description="Where the index (Chroma + catalog) lives.")
    corpus_dir: Path = Field(Path("corpus"), description="The folder of documents to index.")
    collection: str = Field("corpus", min_length=3, max_length=60, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]+$")

    chunk_size: int = Field(128, ge=32, le=2048, description="Chunk size in cl100k tokens.")
    chunk_overlap: int = Field(24, ge=0, le=512, description="Overlap between chunks in tokens.")
    embed_batch_size: int | None = Field(
        None, ge=1, le=4096, description="Texts per batch when torch embeds in bulk; unset: 64 on a CPU, 256 on CUDA."
    )
    embed_device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where torch embeds in bulk: auto picks CUDA when torch sees a device, else the CPU."
    )
    numpy_embed_max: int = Field(
        64,
        ge=0,
        description="Jobs of up to this many texts (a question, one new article) are embedded by the NumPy copy of "
        "the model while torch is not loaded: ~0.2 s to start instead of ~5 s. 0: always torch.",
    )
    max_file_mb: float = Field(
        10.0, gt=0, description="Larger files are skipped when indexing (a 10 MB text is ~20,000 chunks)."
    )

    chroma_url: str | None = Field(None, description="http://host:port of a `chroma run` server; unset: embedded.")
    chroma_token: SecretStr | None = None

    top_k: int = Field(5, ge=1, le=50)
    max_question_chars: int = Field(2000, ge=10)
    sentence_scorer: Literal["news", "hand-set", "learned"] = Field(
        "news",
        description="The weights that choose which candidate sentence to quote: those `make train` learns from the "
        "team's news questions (qa/data/news_scorer.json), the hand-set ones, or those it learns from SQuAD 2.0 "
        "training questions (qa/data/sentence_scorer.json; better on held-out Wikipedia articles, worse on the "
        "team's news questions): docs/ANSWER_SCORER.md.",
    )

    answer_encoder: bool = Field(
        True,
        description="Where a question shares few words with the passages found (a paraphrase), choose the sentence to "
        "quote by the fine-tuned answer encoder (qa/data/answer_encoder, `make train`), and elsewhere read the best "
        "two candidates again with its cosine (qa/data/second_reading.json); false: by the hand-set score.",
    )
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout: float = Field(30.0, gt=0)

    watch: bool = Field(
        True, description="`qa serve` follows the corpus folder: added, changed and removed files are indexed."
    )
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    auth: SecretStr | None = Field(None, description="user:password turns on a login for the chat UI.")
    max_upload_mb: float = Field(20.0, gt=0)
    answer_workers: int | None = Field(
        None,
        ge=0,
        le=64,
        description="Processes that answer questions for `qa serve` (extractive mode); unset: one per core, at "
        "most 4 (none on a single core); 0: answer in the server process.",
    )

    @field_validator("chroma_url", "llm_base_url", "llm_model", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("chroma_url")
    @classmethod
    def _url_has_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"QA_CHROMA_URL must start with http:// or https://, got {value!r}")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _overlap_below_size(self) -> Settings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError(
                f"QA_CHUNK_OVERLAP ({self.chunk_overlap}) must be smaller than QA_CHUNK_SIZE ({self.chunk_size})"
            )
        if self.auth is not None and ":" not in self.auth.get_secret_value():
            raise ValueError("QA_AUTH must look like user:password")
        return self

    @property
    def embed_model(self) -> str:
        return EMBED_MODEL_NAME

    @property
    def chunker_signature(self) -> str:
        """Identifies the chunker and its settings: part of every chunk id and checked when an index opens."""
        return f"sentence-v5:cl100k_base:{self.chunk_size}:{self.chunk_overlap}"

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)


def ignored_variables(environ: Mapping[str, str]) -> list[str]:
    """One line for each ``QA_`` variable of ``environ`` that is no setting (a typo, a retired setting), which
    ``Settings`` ignores: the entry point prints them, so that ``QA_TOPK=3`` does not silently answer with five."""
    known = sorted(PREFIX + name.upper() for name in Settings.model_fields)
    lines = []
    for variable in sorted(environ):
        name = variable.upper()
        if not name.startswith(PREFIX) or name in known or name.startswith(TEST_HOOKS):
            continue
        if name in RETIRED:
            lines.append(f"{variable} is ignored: {RETIRED[name]}.")
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]}?" if close else f" (the settings are {', '.join(known)})."
        lines.append(f"{variable} is not a setting and is ignored{hint}")
    return lines
