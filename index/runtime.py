"""Process set-up for working offline; called by entry points, never at import."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


def tiktoken_cache_dir() -> Path:
    """The cl100k_base files that llama-index ships, so tiktoken never downloads (found without importing
    llama-index, which takes seconds)."""
    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llama-index-core is not installed; run `make install`")
    return Path(next(iter(spec.submodule_search_locations))) / "_static" / "tiktoken_cache"


def prepare_offline_runtime() -> None:
    """Point every library at local data and switch telemetry off; existing user values win."""
    defaults = {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "TOKENIZERS_PARALLELISM": "false",
        "TRANSFORMERS_VERBOSITY": "error",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "TIKTOKEN_CACHE_DIR": str(tiktoken_cache_dir()),
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
