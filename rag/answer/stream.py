"""Stream parsing: raw model tokens in, shown text and completed sentences (with their labels) out.

The model cites sources as [n] (or [Sn]) after each sentence. While a reply streams, labels and a
reply that may still turn into the "not in the sources" sentinel are held back; each completed
sentence goes to the claim resolver, whose verified markers are shown after it, so the streamed
text and the final answer are the same string.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Protocol

from rag.text import NEWS_ABBREVIATIONS

_LABEL_BODY = r"\[\s*S?\d+(?:\s*[,;]\s*S?\d+)*\s*\]"
_LABEL = re.compile(_LABEL_BODY)
_LABEL_NUMBER = re.compile(r"\d+")
_LABELS_RUN = re.compile(rf"(?:\s*{_LABEL_BODY})+")
# A sentence ends at . ! ? (plus closing quotes and any labels) followed by space and more text,
# or at a line break. Not before a "[": models often put a space between the full stop and the
# label ("... spokesperson. [3]"), and the label belongs to the sentence before it.
_SENTENCE_END = re.compile(rf"(?<=[.!?])[\"”’)]?(?:\s*{_LABEL_BODY})*\s+(?=[^\s\[])|\n+(?=[^\s\[])")
# Words left dangling where a label is removed ("..., as stated in [2].", "(see [1])").
_PAREN_LABELS = re.compile(rf"\s*\(\s*(?:see|per|sources?)?\s*(?:{_LABEL_BODY}\s*[,;]?\s*)+\)", re.I)
_DANGLING = re.compile(
    rf",?\s*(?:as (?:stated|mentioned|noted|reported|shown|said|described|indicated|given) in|according to|see|per)"
    rf"(?:\s+(?:the\s+)?(?:sources?|sentences?|evidence|articles?|texts?|documents?))?\s*(?={_LABEL_BODY})",
    re.I,
)
_PROMPT_TAG = re.compile(r"</?\s*(?:evidence|sources)\s*>", re.I)
_LAST_WORD = re.compile(r"([\w.]+)\.[\"”’)]?$")
# The exact "no answer" replies the prompts ask for (this one's and the previous one's), as keys.
SENTINELS = ("NOT_IN_THE_SOURCES", "NOT_IN_SOURCES", "NOT_IN_CORPUS")
# The model saying the evidence does not answer (about the evidence, not about the world).
_ABSTAIN_PHRASES = re.compile(
    r"\b(not_in_corpus|not in the (sources?|evidence|articles?|context)|"
    r"(evidence|articles?|texts?|context|corpus|sources?|passages?|documents?) "
    r"(does not|do not|did not|doesn't|don't|didn't) (say|mention|state|answer|provide|contain|include|specify)|"
    r"(is|are) not (mentioned|stated|provided|given) in the (evidence|articles?|texts?|context|sources?)|"
    r"no information|cannot (be )?answer(ed)?|can't answer|not enough information|insufficient information)\b",
    re.I,
)
_ABSTENTION_MAX_WORDS = 25


class Resolver(Protocol):
    def add(self, claim: str, labels: list[int]) -> str:
        """Verify one completed sentence; returns the markers to show after it."""


def clean_claim(raw: str) -> str:
    """The sentence as shown: labels and echoed prompt tags removed, whitespace collapsed."""
    text = _LABELS_RUN.sub("", _DANGLING.sub(" ", _PAREN_LABELS.sub(" ", raw)))
    text = " ".join(_PROMPT_TAG.sub(" ", text).split())
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    if text[:1] in ",;:":  # "According to [2], the plan ...": the sentence starts after the comma
        text = text.lstrip(",;: ")
        text = text[:1].upper() + text[1:]
    return text


def labels_in(raw: str) -> list[int]:
    """Zero-based evidence indexes the sentence cites, in order, without repeats."""
    numbers = [int(n) - 1 for label in _LABEL.findall(raw) for n in _LABEL_NUMBER.findall(label)]
    return list(dict.fromkeys(numbers))


def is_abstention(text: str) -> bool:
    """The model saying the evidence does not answer, rather than claiming a fact.

    Only short sentences without numbers count, so facts cannot slip past verification inside one.
    """
    if is_sentinel(text):
        return True
    short = len(text.split()) <= _ABSTENTION_MAX_WORDS and not re.search(r"\d", text)
    return short and bool(_ABSTAIN_PHRASES.search(text))


def _sentinel_key(text: str) -> str:
    return re.sub(r"[^A-Z]+", "_", text.upper()).strip("_")


def is_sentinel(text: str) -> bool:
    key = _sentinel_key(text)
    return any(key.startswith(s) for s in SENTINELS)


def _could_be_sentinel(partial: str) -> bool:
    """True while a sentence being written may still turn out to be a sentinel."""
    key = _sentinel_key(partial)
    return any(s.startswith(key) or key.startswith(s) for s in SENTINELS)


def _sentence_end(text: str) -> re.Match | None:
    """The first sentence boundary that does not follow an abbreviation like "U.S." or "Mr."."""
    for match in _SENTENCE_END.finditer(text):
        word = _LAST_WORD.search(_LABELS_RUN.sub("", text[: match.start()]).rstrip())
        last = word.group(1).lower() if word else ""
        abbreviation = last in NEWS_ABBREVIATIONS and (last != "no" or text[match.end():][:1].isdigit())
        if abbreviation or re.fullmatch(r"[a-z]", last):
            continue
        return match
    return None


class StreamedAnswer:
    """Turns raw model tokens into shown text: labels and a leading sentinel held back."""

    def __init__(self, resolver: Resolver):
        self.resolver = resolver
        self.raw = ""  # the current, unfinished sentence as the model wrote it
        self.visible = ""  # the part of it already shown
        self.shown: list[str] = []  # everything yielded so far
        self.said_not_in_sources = False
        self.sentences: list[str] = []  # completed sentences as shown (the first may be a short answer)

    @property
    def text(self) -> str:
        return "".join(self.shown)

    def _emit(self, text: str) -> Iterator[str]:
        if text:
            self.shown.append(text)
            yield text

    def _show(self, visible: str) -> Iterator[str]:
        if not visible.startswith(self.visible) or len(visible) == len(self.visible):
            return
        new = visible[len(self.visible):]
        if not self.visible and self.shown:
            new = " " + new
        self.visible = visible
        yield from self._emit(new)

    def _visible_prefix(self, raw: str) -> str:
        text = clean_claim(raw)
        for opener, closer in ("[]", "<>"):
            if opener in text[text.rfind(closer) + 1:]:
                text = text[: text.rfind(opener)]  # maybe a label or tag still being written
        text = text.rstrip()
        return "" if _could_be_sentinel(text) else text

    def feed(self, delta: str) -> Iterator[str]:
        self.raw += delta
        while (match := _sentence_end(self.raw)) is not None:
            sentence, self.raw = self.raw[: match.end()], self.raw[match.end():]
            yield from self._complete(sentence)
        yield from self._show(self._visible_prefix(self.raw))

    def finish(self) -> Iterator[str]:
        if self.raw.strip():
            yield from self._complete(self.raw)
        self.raw = ""

    def _complete(self, sentence: str) -> Iterator[str]:
        claim = clean_claim(sentence)
        if is_sentinel(claim):
            self.said_not_in_sources = True
        elif claim:
            self.sentences.append(claim)
            yield from self._show(claim)
            if self.visible:
                yield from self._emit(self.resolver.add(claim, labels_in(sentence)))
        self.visible = ""
