"""Answerers turn selected evidence into an answer with verified citations."""

from rag.answer.base import Draft, abstention
from rag.answer.extractive import ExtractiveAnswerer

__all__ = ["Draft", "ExtractiveAnswerer", "abstention"]
