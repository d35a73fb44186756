"""One exception hierarchy, so callers can catch RagError and show its message."""


class RagError(Exception):
    """Base class: the message is one line a user can act on."""

    exit_code = 1


class InputError(RagError):
    """An input (file, question, option) is unusable; nothing stored was changed."""


class ArticleNotFound(InputError):
    """No article with that id."""


class StoreError(RagError):
    """The registry, Chroma or the BM25 index failed or disagree."""


class LLMError(RagError):
    """The LLM endpoint failed; the message names the cause and the setting to fix."""

    def __init__(self, message: str, *, cause: str = "error", setting: str | None = None):
        super().__init__(message)
        self.cause = cause
        self.setting = setting
