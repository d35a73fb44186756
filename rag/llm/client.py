"""The LLM endpoint: LlamaIndex's OpenAILike over the official openai client, with our errors.

Every failure of the endpoint becomes an LLMError naming the cause and the setting to fix, so
callers can fall back to the extractive answerer with a visible notice. Two checks make
OpenAI-compatible servers fail loudly where they would otherwise fail silently:
- the model name is checked once against GET /models (llama.cpp, for one, serves its only model
  under any name it is sent);
- a stream that ends without a single token is replayed once without streaming to learn why
  (some servers report a too-long prompt only that way).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rag.errors import LLMError
from rag.safe_output import redact
from rag.settings import Settings

T = TypeVar("T")

RETRIES = 3  # attempts for a rate-limited request, with exponential backoff between them
BACKOFF_S = 0.5
MAX_ANSWER_TOKENS = 120
_CONTEXT_SIZE = re.compile(r"(?:maximum context length is|context window of|context size \(|n_ctx[^\d]{0,12})\s*(\d+)", re.I)
_CONTEXT_WORDS = ("context length", "context window", "context size", "context_length", "too long", "maximum context", "n_ctx")


def _where(settings: Settings) -> str:
    return settings.openai_base_url or "api.openai.com"


def context_error(settings: Settings, detail: str) -> LLMError:
    """The one-line error for a prompt that does not fit the server's context window."""
    size = _CONTEXT_SIZE.search(detail)
    fix = (f"set RAG_LLM_CONTEXT_WINDOW={size.group(1)} (the server's size)" if size
           else "lower RAG_LLM_CONTEXT_WINDOW to the server's context size")
    return LLMError(f"the prompt does not fit the context window of the model at {_where(settings)}: {fix}",
                    cause="context", setting="RAG_LLM_CONTEXT_WINDOW")


def _status_message(exc, settings: Settings) -> str:
    """The server's own error message, on one line, without the API key (servers echo a
    rejected key in their error bodies, and these messages reach the UI and logs)."""
    body = getattr(exc, "body", None)
    message = body.get("message") if isinstance(body, dict) else None
    return redact(" ".join(str(message or getattr(exc, "message", "") or exc).split())[:200], settings.openai_api_key)


@contextmanager
def map_llm_errors(settings: Settings) -> Iterator[None]:
    """Translate openai/httpx exceptions into one-line LLMErrors."""
    import httpx
    import openai

    where = _where(settings)
    try:
        yield
    except LLMError:
        raise
    except openai.AuthenticationError as exc:
        raise LLMError(f"the LLM server at {where} rejected the API key (401): check OPENAI_API_KEY",
                       cause="auth", setting="OPENAI_API_KEY") from exc
    except openai.PermissionDeniedError as exc:
        raise LLMError(f"the API key may not use model {settings.llm_model!r} at {where} (403): check OPENAI_API_KEY "
                       "and RAG_LLM_MODEL", cause="auth", setting="OPENAI_API_KEY") from exc
    except openai.NotFoundError as exc:
        raise LLMError(f"model {settings.llm_model!r} is not served at {where} (404): check RAG_LLM_MODEL "
                       "(and OPENAI_BASE_URL)", cause="model", setting="RAG_LLM_MODEL") from exc
    except openai.RateLimitError as exc:
        raise LLMError(f"the LLM server at {where} is rate limiting (429) after {RETRIES} tries: retry later "
                       "or check the quota of OPENAI_API_KEY", cause="rate_limit", setting="OPENAI_API_KEY") from exc
    except (openai.APITimeoutError, httpx.TimeoutException) as exc:
        raise LLMError(f"the LLM server at {where} did not answer within {settings.llm_timeout_s:g}s: check the "
                       "server or raise RAG_LLM_TIMEOUT", cause="timeout", setting="RAG_LLM_TIMEOUT") from exc
    except (openai.APIConnectionError, httpx.TransportError) as exc:
        raise LLMError(f"cannot reach the LLM server at {where}: is it running? check OPENAI_BASE_URL",
                       cause="connection", setting="OPENAI_BASE_URL") from exc
    except openai.BadRequestError as exc:
        message = _status_message(exc, settings)
        if any(word in message.lower() for word in _CONTEXT_WORDS):
            raise context_error(settings, message) from exc
        raise LLMError(f"the LLM server at {where} refused the request (400): {message}",
                       cause="bad_request", setting="RAG_LLM_MODEL") from exc
    except openai.APIStatusError as exc:
        raise LLMError(f"the LLM server at {where} failed ({exc.status_code}): {_status_message(exc, settings)}",
                       cause="server", setting="OPENAI_BASE_URL") from exc
    except openai.OpenAIError as exc:
        raise LLMError(f"the LLM server at {where} sent an unusable reply: {redact(' '.join(str(exc).split())[:200], settings.openai_api_key)}",
                       cause="server", setting="OPENAI_BASE_URL") from exc


def with_rate_limit_retries(call: Callable[[], T], retries: int = RETRIES, backoff_s: float = BACKOFF_S) -> T:
    """Run `call`, retrying on 429 with exponential backoff (backoff_s, 2*backoff_s, ...)."""
    import openai

    for attempt in range(retries):
        try:
            return call()
        except openai.RateLimitError:
            if attempt == retries - 1:
                raise
            time.sleep(backoff_s * 2**attempt)
    raise AssertionError("unreachable")


class ChatLLM:
    """A chat model behind an OpenAI-compatible API (OpenAI, vLLM, Ollama, llama.cpp, LM Studio)."""

    def __init__(self, settings: Settings, max_tokens: int = MAX_ANSWER_TOKENS):
        from llama_index.llms.openai_like import OpenAILike

        self.settings = settings
        self.model = settings.llm_model
        self.max_tokens = max_tokens
        self._model_checked = False
        self._llm = OpenAILike(
            model=settings.llm_model,
            api_base=self.base_url,
            api_key=settings.openai_api_key or "unset",
            is_chat_model=True,
            context_window=settings.llm_context_window,
            timeout=settings.llm_timeout_s,
            max_retries=0,  # retries with backoff happen here, and only for rate limits
            temperature=0.0,
            max_tokens=max_tokens,
        )

    @property
    def base_url(self) -> str:
        return self.settings.openai_base_url or "https://api.openai.com/v1"

    def _client(self):
        """A fresh official client: for the model list and for diagnosing empty streams."""
        import openai

        return openai.OpenAI(base_url=self.base_url, api_key=self.settings.openai_api_key or "unset",
                             timeout=self.settings.llm_timeout_s, max_retries=0)

    def check_model(self) -> None:
        """Fail with a clear error unless the server lists RAG_LLM_MODEL (checked once)."""
        import openai

        if self._model_checked:
            return
        with map_llm_errors(self.settings):
            try:
                served = [m.id for m in with_rate_limit_retries(lambda: list(self._client().models.list()))]
            except openai.NotFoundError:
                served = None  # the server has no model list: the chat request will tell
        if served is not None and self.model not in served:
            listed = ", ".join(served[:5]) + (", ..." if len(served) > 5 else "") if served else "no models"
            raise LLMError(f"model {self.model!r} is not served at {_where(self.settings)} (it serves: {listed}): "
                           "check RAG_LLM_MODEL", cause="model", setting="RAG_LLM_MODEL")
        self._model_checked = True

    def stream(self, system: str, user: str) -> Iterator[str]:
        """Token deltas of the reply; rate limits are retried with exponential backoff.

        Raises LLMError (one line, naming the setting to fix) for every endpoint failure.
        """
        from llama_index.core.llms import ChatMessage

        self.check_model()
        messages = [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]
        with map_llm_errors(self.settings):
            # Rate limits arrive before the first token, so retrying the opening is enough.
            chunks = with_rate_limit_retries(lambda: _opened(self._llm.stream_chat(messages)))
            produced = False
            for chunk in chunks:
                if chunk.delta:
                    produced = True
                    yield chunk.delta
            if not produced:
                self._explain_empty_reply(system, user)

    def _explain_empty_reply(self, system: str, user: str) -> None:
        """Replay an empty streamed reply without streaming, so the server says what went wrong."""
        reply = self._client().chat.completions.create(
            model=self.model, max_tokens=self.max_tokens, temperature=0.0,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
        )
        if not (reply.choices and reply.choices[0].message.content):
            raise LLMError(f"the model at {_where(self.settings)} returned an empty answer: check RAG_LLM_MODEL",
                           cause="empty", setting="RAG_LLM_MODEL")

    def complete(self, system: str, user: str) -> str:
        """The whole reply as one string."""
        return "".join(self.stream(system, user))

    def yes_probability(self, system: str, user: str) -> float:
        """P(yes) / (P(yes) + P(no)) over the first token of the reply, from the server's logprobs.

        A one-token request: the question must be answerable with yes or no. 0.5 when neither
        word is among the top tokens (the model said something else).
        """
        import math

        self.check_model()
        client = self._client()
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        with map_llm_errors(self.settings):
            reply = with_rate_limit_retries(lambda: client.chat.completions.create(
                model=self.model, messages=messages, max_tokens=1, temperature=0.0, logprobs=True, top_logprobs=10))
        content = reply.choices[0].logprobs.content if reply.choices and reply.choices[0].logprobs else None
        if not content:
            raise LLMError(f"the model at {_where(self.settings)} returned no logprobs: the LLM judge needs a "
                           "server that supports them", cause="server", setting="OPENAI_BASE_URL")
        mass = {"yes": 0.0, "no": 0.0}
        for top in content[0].top_logprobs or []:
            word = top.token.strip().lower()
            if word in mass:
                mass[word] += math.exp(top.logprob)
        total = mass["yes"] + mass["no"]
        return mass["yes"] / total if total > 0 else 0.5


def _opened(chunks: Iterator[T]) -> Iterator[T]:
    """Start a lazy stream now (so errors in opening it surface here), keeping every chunk."""
    first = next(chunks, None)
    if first is None:
        return iter(())

    def rest() -> Iterator[T]:
        yield first
        yield from chunks

    return rest()
