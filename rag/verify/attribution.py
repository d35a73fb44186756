"""Attribution: a claim must say who said it and who did it, and a claim about several sources
must cite them.

"The Kremlin insisted Friday that the U.S. has not disclosed the details of the plan" supports
"The Kremlin said the U.S. has not disclosed the details", not "The U.S. has not disclosed the
details" (a claim turned into a fact) nor "The Kremlin has not disclosed the details" (the speaker
made the subject). Judges that compare words or ask a 1.5B model yes/no accept both: every word is
in the source. So each source sentence is split into its frame (the speaker and the reporting
verb) and what it reports, and a claim that takes words from the reported part must carry a
reporting verb of its own and, when the frame names a speaker, one of the speaker's words. In a
transcript the speaker label ("SECRETARY RUBIO:", "QUESTION:") is the frame.

Who did it: "The Ukrainian delegation drafted a framework", cited to "the parties drafted a
framework" and the next sentence, "The Ukrainian delegation reaffirmed its gratitude ...", takes
its subject from a sentence about something else. A sentence that supplies only a claim's
subject may be cited with the one that says what happened only when it comes first, as an
antecedent does ("The delegations met in Geneva. They drafted ...").

Likewise "Both sources agree that ..." (a compare answer) says something about two articles; cited
to two sentences of one article, it is not supported, whatever those sentences say.
"""

from __future__ import annotations

import re

from rag.lexical import terms

# Verbs (and "according to") that introduce reported speech or stance in news copy. Left out on
# purpose: "added", "reported", "posted", which news copy also uses for plain facts ("the
# economy added 200,000 jobs"). Case-sensitive: "States" in "the United States" is a name.
_REPORTING = re.compile(
    r"\b(?:say|says|said|saying|tell|tells|told|insist(?:s|ed)?|claim(?:s|ed)?|stat(?:es|ed)|"
    r"argu(?:es|ed)|warn(?:s|ed)|den(?:ies|ied)|announc(?:es|ed)|not(?:es|ed)|explain(?:s|ed)|"
    r"acknowledg(?:es|ed)|admit(?:s|ted)|confirm(?:s|ed)|hop(?:es|ed)|believ(?:es|ed)|"
    r"wr(?:ote|ites)|assert(?:s|ed)|maintain(?:s|ed)|alleg(?:es|ed)|accus(?:es|ed)|predict(?:s|ed)|"
    r"suggest(?:s|ed)|stress(?:es|ed)|urg(?:es|ed)|vow(?:s|ed)|pledg(?:es|ed)|promis(?:es|ed)|ask(?:s|ed)?|think|thinks|"
    r"[Aa]ccording to)\b"
)
# A transcript's speaker label ("SECRETARY RUBIO: ...", "QUESTION: ..."): the whole sentence is
# that speaker's. "Rubio said it was raised in meetings" cited to "QUESTION: But it was raised in
# meetings —" (a reporter's words) was shown as supported before this.
_SPEAKER_LABEL = re.compile(r"^\s*([A-Z][A-Z.’'-]*(?: [A-Z][A-Z.’'-]*){0,3}):\s")
# Where a clause starts or ends: the frame of '"We are ready," Peskov said.' is the clause after the comma.
_BOUNDARY = re.compile(r"[,;:\"“”()—–]|(?<!\w)['‘’]|['‘’](?!\w)")  # not the apostrophe in "Trump’s"
_THAT = re.compile(r"\s*(?:\S+\s+){0,2}?that\b", re.I)
_PRONOUN = re.compile(r"^(?:i|you|he|she|we|they|it|one)(?:'\w*)?$")
_QUOTE = re.compile(r"[\"“”]")
# What a reporting verb that ends a fronted report may take after it ("told reporters on Friday"):
# a verb with more after it reports that ("Last Thursday, the European Broadcasting Union
# confirmed Israel's participation in the Eurovision Song Contest 2026" reports the participation,
# and "Israel participated in Eurovision 2026" was cited to it before this).
_MAX_FRAME_TAIL = 4
# "Both sources agree", "the two statements differ", "each of the reports says": a claim about
# several sources (articles, reports, statements, ...) as such. Only with a quantifier: "Peskov
# dismissed the reports" is about reports, not a claim about what several sources say.
_SEVERAL_SOURCES = re.compile(
    r"\b(?:both|the two|each of the|all(?: the)?)(?: [\w.'’-]+){0,3}? "
    r"(?:sources|articles|reports|statements|texts|readouts|documents|accounts)\b",
    re.I,
)
# A claim takes the reported content when it reuses at least this many of its content terms
# (beyond the speaker's): one shared word is a topic, two are a statement.
MIN_SHARED = 2
# Auxiliaries and pronouns, which the shared search terms keep but which carry no statement.
_FUNCTION_TERMS = set(terms("has have had been being would could can may might must should shall will "
                            "also it its now just still we they he she them their our is are was were"))


class Frame:
    """One source sentence split into who reports (speaker terms) and what is reported (content terms)."""

    def __init__(self, sentence: str):
        self.speaker: set[str] = set()
        self.content: set[str] = set()
        self.attributed = False
        label = _SPEAKER_LABEL.match(sentence)
        if label:
            self.attributed = True
            self.speaker = set(terms(label.group(1)))
            self.content = _content_terms(sentence[label.end():]) - self.speaker
            return
        m = _REPORTING.search(sentence)
        if m is None:
            return
        self.attributed = True
        starts = [b.end() for b in _BOUNDARY.finditer(sentence, 0, m.start())]
        clause_start = starts[-1] if starts else 0
        end = _BOUNDARY.search(sentence, m.end())
        clause_end = end.start() if end else len(sentence)
        before, tail = sentence[:clause_start], terms(sentence[m.end():clause_end])
        fronted = len(terms(before)) >= MIN_SHARED and (_QUOTE.search(before) or len(tail) <= _MAX_FRAME_TAIL)
        if m.group().lower() == "according to" or fronted:
            # The reported part comes first ('"We are ready," Peskov told reporters on Friday.'), or
            # the speaker follows the verb ("According to officials, ..."): the frame is the clause.
            frame_start, frame_end = clause_start, clause_end
        else:
            frame_start, frame_end = clause_start, m.end()
            that = _THAT.match(sentence, frame_end, clause_end)
            if that:
                frame_end = that.end()
        frame = sentence[frame_start:frame_end]
        # A pronoun ("I think they've stated ...") names nobody a claim could repeat: any
        # reporting verb then keeps the attribution.
        self.speaker = {t for t in terms(_REPORTING.sub(" ", frame)) if not _PRONOUN.match(t)}
        self.content = _content_terms(sentence[:frame_start] + " " + sentence[frame_end:]) - self.speaker


def _content_terms(text: str) -> set[str]:
    return set(terms(text)) - _FUNCTION_TERMS


def keeps_attribution(claim: str, sentence: str) -> bool:
    """Whether `claim` may be cited to `sentence`: True unless it reuses what the sentence reports
    somebody said without saying who said it."""
    frame = Frame(sentence)
    if not frame.attributed:
        return True
    claim_terms = _content_terms(claim)
    if len(claim_terms & frame.content) < MIN_SHARED:
        return True  # about the speaker ("Peskov is the Kremlin spokesperson"), not what was said
    if not _REPORTING.search(claim):
        return False
    return not frame.speaker or bool(claim_terms & frame.speaker)


def dropped_attribution(claim: str, sentences: list[str]) -> str | None:
    """The first cited sentence whose reported content the claim states without its speaker, if any."""
    return next((s for s in sentences if not keeps_attribution(claim, s)), None)


def sources_needed(claim: str) -> int:
    """How many different articles the claim's citations must come from: 2 for a claim about
    several sources ("Both sources agree ..."), else 1."""
    return 2 if _SEVERAL_SOURCES.search(claim) else 1


def borrows_subject(claim: str, sentences: list[str]) -> bool:
    """Whether the claim takes its subject from a later sentence than the one saying what happened.

    `sentences`: the cited sentences of one article, in article order. The one sharing the most
    content terms with the claim says what happened; a later sentence whose own contribution (terms
    the first lacks) all come before the claim's first term shared with it, and which lacks that
    term, supplies only the subject, which no antecedent can."""
    order = [t for t in terms(claim) if t not in _FUNCTION_TERMS]
    if len(sentences) < 2 or not order:
        return False
    found = [set(terms(s)) for s in sentences]
    main = max(range(len(found)), key=lambda i: len(found[i] & set(order)))
    first = next((i for i, t in enumerate(order) if t in found[main]), None)
    if first is None:
        return False
    for later in found[main + 1:]:
        own = [i for i, t in enumerate(order) if t in later and t not in found[main]]
        # A later sentence naming the same thing ("a version of the 28-point plan" for "The
        # plan, which has not been made public, includes ...") identifies it, it does not replace it.
        if own and max(own) < first and order[first] not in later:
            return True
    return False
