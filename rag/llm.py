"""The LLM endpoint: LlamaIndex's OpenAILike over the official openai client, with our errors.

Every failure of the endpoint becomes an LLMError naming the cause and the setting to fix, so
callers can fall back to the extractive answerer with a visible notice.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rag.errors import LLMError
from rag.models import Turn
from rag.settings import Settings

_RETRIES = 3


@contextmanager
def map_llm_errors(settings: Settings) -> Iterator[None]:
    """Translate openai/httpx exceptions into one-line LLMErrors."""
    import openai

    where = settings.openai_base_url or "api.openai.com"
    try:
        yield
    except LLMError:
        raise
    except openai.AuthenticationError as exc:
        raise LLMError(f"the LLM server at {where} rejected the API key (401): check OPENAI_API_KEY", cause="auth", setting="OPENAI_API_KEY") from exc
    except openai.NotFoundError as exc:
        raise LLMError(f"model {settings.llm_model!r} is not served at {where} (404): check RAG_LLM_MODEL", cause="model", setting="RAG_LLM_MODEL") from exc
    except openai.RateLimitError as exc:
        raise LLMError(f"the LLM server at {where} is rate limiting (429) after {_RETRIES} tries: retry later", cause="rate_limit", setting="RAG_LLM_MODEL") from exc
    except openai.APITimeoutError as exc:
        raise LLMError(f"the LLM server at {where} did not answer within {settings.llm_timeout_s:.0f}s: raise RAG_LLM_TIMEOUT or check the server", cause="timeout", setting="RAG_LLM_TIMEOUT") from exc
    except openai.APIConnectionError as exc:
        raise LLMError(f"cannot reach the LLM server at {where}: is it running? check OPENAI_BASE_URL", cause="connection", setting="OPENAI_BASE_URL") from exc
    except openai.BadRequestError as exc:
        text = str(exc).lower()
        if "context" in text or "token" in text or "too long" in text:
            raise LLMError(f"the prompt does not fit the model's context window: lower RAG_TOP_K or set RAG_LLM_CONTEXT_WINDOW", cause="context", setting="RAG_LLM_CONTEXT_WINDOW") from exc
        raise LLMError(f"the LLM server at {where} refused the request (400): {exc.message}", cause="bad_request") from exc
    except openai.APIStatusError as exc:
        raise LLMError(f"the LLM server at {where} failed ({exc.status_code}): {exc.message}", cause="server") from exc


class ChatLLM:
    """A chat model behind an OpenAI-compatible API."""

    def __init__(self, settings: Settings):
        from llama_index.llms.openai_like import OpenAILike

        self.settings = settings
        self.model = settings.llm_model
        self._llm = OpenAILike(
            model=settings.llm_model,
            api_base=settings.openai_base_url or "https://api.openai.com/v1",
            api_key=settings.openai_api_key or "unset",
            is_chat_model=True,
            context_window=settings.llm_context_window,
            timeout=settings.llm_timeout_s,
            max_retries=0,  # retries with backoff happen here, only for rate limits
            temperature=0.0,
            max_tokens=400,
        )

    def stream(self, system: str, user: str) -> Iterator[str]:
        """Token deltas of the reply; rate limits are retried with exponential backoff."""
        import openai
        from llama_index.core.llms import ChatMessage

        messages = [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]
        with map_llm_errors(self.settings):
            for attempt in range(_RETRIES):
                try:
                    started = False
                    for chunk in self._llm.stream_chat(messages):
                        started = True
                        if chunk.delta:
                            yield chunk.delta
                    return
                except openai.RateLimitError:
                    if started or attempt == _RETRIES - 1:
                        raise
                    time.sleep(0.5 * 2**attempt)

    def complete(self, system: str, user: str) -> str:
        return "".join(self.stream(system, user))

    def condense(self, question: str, history: list[Turn]) -> str:
        """The follow-up rewritten as a standalone question, using the conversation."""
        turns = "\n".join(f"User: {t.question}\nAssistant: {t.answer[:500]}" for t in history[-3:])
        system = (
            "Rewrite the user's last question as one standalone question that can be understood "
            "without the conversation. Resolve pronouns to the names they refer to. Reply with the "
            "question only."
        )
        reply = self.complete(system, f"Conversation:\n{turns}\n\nLast question: {question}\n\nStandalone question:")
        line = reply.strip().splitlines()[0].strip().strip('"') if reply.strip() else ""
        return line if 3 <= len(line) <= 400 else question
