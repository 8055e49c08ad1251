"""The project's error hierarchy: every message says what is wrong and what to do."""

from __future__ import annotations


class QAError(Exception):
    """Base of every error a user can cause or fix; the CLI and UI show its message, not a traceback."""


class CorpusNotFoundError(QAError):
    """The corpus folder does not exist."""


class IndexNotBuiltError(QAError):
    """There is no index yet."""


class IndexMismatchError(QAError):
    """The index was built with another model or chunker."""


class StoreUnavailableError(QAError):
    """The Chroma server cannot be reached."""


class InvalidQuestionError(QAError):
    """The question is empty or too long."""


class DocumentRejectedError(QAError):
    """An uploaded document was refused (type, size or name)."""


class IndexBusyError(QAError):
    """Another process (a running ``qa serve``) owns the index's data folder."""


class EmbeddingDeviceError(QAError):
    """The embedding device asked for (``QA_EMBED_DEVICE=cuda``) is not there."""
