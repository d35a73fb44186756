"""Grounded question answering over news articles.

    from rag import Library
    library = Library()
    library.add(["corpus/"])
    answer = library.ask("Who is the Kremlin spokesperson?")
"""

from rag.settings import apply_offline_env

apply_offline_env()

from rag.errors import ArticleNotFound, InputError, LLMError, RagError, StoreError  # noqa: E402
from rag.models import AddResult, Answer, Article, ArticleSummary, Citation, Claim, Turn  # noqa: E402
from rag.settings import Settings  # noqa: E402


def __getattr__(name: str):
    # Library pulls in chromadb and onnxruntime; import it only when asked for.
    if name == "Library":
        from rag.library import Library

        return Library
    raise AttributeError(name)


__all__ = [
    "AddResult", "Answer", "Article", "ArticleNotFound", "ArticleSummary", "Citation", "Claim",
    "InputError", "LLMError", "Library", "RagError", "Settings", "StoreError", "Turn",
]
