"""A claim that repeats what a source reports somebody said must keep who said it."""

import pytest

from rag.verify.attribution import Frame, borrows_subject, dropped_attribution, keeps_attribution, sources_needed

KREMLIN = ("The Kremlin insisted Friday that the U.S. has not disclosed the details of President Trump’s "
           "28-point Ukraine peace plan with Russia but hoped that negotiations could begin soon.")
PESKOV = "Kremlin spokesperson Dmitry Peskov said the plan had not been discussed in detail."
QUOTE_FIRST = '"We are ready to talk," Peskov told reporters on Friday.'
ACCORDING = "According to the health ministry, 40 people were injured in the blast."
EBU = "Last Thursday, the European Broadcasting Union confirmed Israel's participation in the Eurovision Song Contest 2026."
PLAIN = "The Bayside ferry will run hourly night crossings between Pier 4 and Gull Island."


@pytest.mark.parametrize("claim, sentence, kept", [
    # The reported content stated as fact, or with the speaker made its subject: dropped.
    ("The U.S. has not disclosed the details of the 28-point plan but hopes negotiations could begin soon.", KREMLIN, False),
    ("The Kremlin has not disclosed the details of the U.S. 28-point plan.", KREMLIN, False),
    ("The plan had not been discussed in detail.", PESKOV, False),
    ("Russia is ready to talk.", QUOTE_FIRST, False),
    ("40 people were injured in the blast.", ACCORDING, False),
    # A time before the comma is not a report put first: what the Union confirmed is reported.
    ("Israel participated in Eurovision 2026.", EBU, False),
    # Attributed to somebody else: dropped.
    ("Russia said the U.S. has not disclosed the details of the plan.", KREMLIN, False),
    # Kept: the speaker and a reporting verb of its own.
    ("The Kremlin said the U.S. has not disclosed the details of the 28-point plan.", KREMLIN, True),
    ("Peskov said the plan had not been discussed in detail.", PESKOV, True),
    ("Peskov said Russia is ready to talk.", QUOTE_FIRST, True),
    ("The health ministry said 40 people were injured.", ACCORDING, True),
    # A pronoun speaker names nobody: a reporting verb of the claim's own is enough.
    ("Russia wants the rest of Donetsk, according to Rubio.",
     "I mean, I think they’ve stated clearly what they want is they want the rest of Donetsk.", True),
    ("Russia wants the rest of Donetsk.",
     "I mean, I think they’ve stated clearly what they want is they want the rest of Donetsk.", False),
    ("The European Broadcasting Union confirmed Israel's participation in Eurovision 2026.", EBU, True),
    # A transcript's speaker label is the speaker: a reporter's question is not Rubio's words.
    ("Rubio said it was raised in meetings.", "QUESTION: But it was raised in meetings —", False),
    ("Rubio said they can only go by what they see.", "SECRETARY RUBIO: Well, we can only go by what we see.", True),
    ("They can only go by what they see.", "SECRETARY RUBIO: Well, we can only go by what we see.", False),
    # About the speaker, or one topic word of the content: nothing reported is repeated.
    ("Dmitry Peskov is the Kremlin spokesperson.", PESKOV, True),
    ("The plan has 28 points.", KREMLIN, True),
    # A sentence that reports nobody's words needs no attribution ("States" is a name, not a verb).
    ("The ferry will run hourly night crossings between Pier 4 and Gull Island.", PLAIN, True),
    ("A ceasefire was proposed by the U.S.", "The United States put forward a proposal for a ceasefire.", True),
])
def test_keeps_attribution(claim, sentence, kept):
    assert keeps_attribution(claim, sentence) is kept


def test_frame_splits_speaker_from_content():
    frame = Frame(KREMLIN)
    assert frame.attributed and frame.speaker == {"kremlin", "friday"}
    assert {"disclos", "detail", "negoti"} <= frame.content and not frame.content & frame.speaker
    assert not Frame(PLAIN).attributed


def test_the_apostrophe_in_a_name_is_not_a_clause_boundary():
    sentence = "According to Trump’s envoy Steve Witkoff, the talks will resume in Geneva next week."
    assert {"trump", "envoy", "steve", "witkoff"} <= Frame(sentence).speaker


def test_dropped_attribution_names_the_sentence():
    claim = "The plan had not been discussed in detail."
    assert dropped_attribution(claim, [PLAIN, PESKOV]) == PESKOV
    assert dropped_attribution(claim, [PLAIN]) is None


@pytest.mark.parametrize("claim, needed", [
    ("Both sources agree that the consultations were productive.", 2),
    ("The two statements differ on the number of points.", 2),
    ("Each of the reports says the talks went well.", 2),
    ("Peskov dismissed the reports as false.", 1),  # about reports, not a claim about what they say
    ("Both Russia and Ukraine agreed to exchange one thousand prisoners.", 1),
])
def test_a_claim_about_several_sources_needs_several(claim, needed):
    assert sources_needed(claim) == needed


DRAFTED = "As a result of the discussions, the parties drafted an updated and refined peace framework."
GRATITUDE = "The Ukrainian delegation reaffirmed its gratitude for the steadfast commitment of the United States."
MET = "The U.S. and Ukrainian delegations met in Geneva on Sunday."
THEY_DRAFTED = "They drafted an updated and refined peace framework."


@pytest.mark.parametrize("claim, sentences, borrowed", [
    # The subject from the sentence after the one saying what happened: no antecedent.
    ("The Ukrainian delegation drafted an updated and refined peace framework.", [DRAFTED, GRATITUDE], True),
    # From the sentence before it, as an antecedent names "They": kept.
    ("The U.S. and Ukrainian delegations drafted a refined peace framework.", [MET, THEY_DRAFTED], False),
    # The later sentence says something of its own in the claim: not only a subject.
    ("The parties drafted a peace framework and the Ukrainian delegation reaffirmed its gratitude.",
     [DRAFTED, GRATITUDE], False),
    # The later sentence names the same plan: it identifies the subject, it does not replace it.
    ("The 28-point plan would require Ukraine to give up key territory.",
     ["The plan, which has not been made public, includes concessions for Ukraine, including giving up key territory.",
      "Washington has reportedly delivered a version of the 28-point plan to Ukrainian officials."], False),
    # One sentence: nothing to borrow from.
    ("The Ukrainian delegation drafted a peace framework.", [DRAFTED], False),
])
def test_a_subject_comes_from_the_sentence_or_its_antecedent(claim, sentences, borrowed):
    assert borrows_subject(claim, sentences) is borrowed
