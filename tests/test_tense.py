"""A claim may not state as done what its sources announce for later."""

import pytest

from rag.verify.tense import states_done_as_intended, states_future_as_done

VENUE = "The event will take place at the NASA's Goddard Space Flight Center in Greenbelt, Maryland."
MIXED = "Peskov said the U.S. has not shared the plan, and talks will begin in Geneva soon."
HELD = "The event took place at Goddard Space Flight Center on Wednesday."


@pytest.mark.parametrize("claim, sentences, done", [
    # The announcement turned into a fact: refused.
    ("The event was held at the NASA's Goddard Space Flight Center in Greenbelt, Maryland.", [VENUE], True),
    ("The event takes place at Goddard Space Flight Center.", [VENUE], True),
    # Kept future, planned or hedged: allowed.
    ("The event will take place at Goddard Space Flight Center in Greenbelt, Maryland.", [VENUE], False),
    ("The event is scheduled at Goddard Space Flight Center.", [VENUE], False),
    ("NASA planned the event at Goddard Space Flight Center.", [VENUE], False),
    # The claim repeats the sentence's other clause, not what will happen: allowed.
    ("Peskov said the U.S. has not shared the plan.", [MIXED], False),
    ("Talks began in Geneva.", [MIXED], True),
    # A neighbouring sentence cited along does not make it done.
    ("The event was held at the NASA's Goddard Space Flight Center in Greenbelt, Maryland.",
     [VENUE, "The event will air on NASA+ and the agency's website."], True),
    # Another cited sentence says it happened: the judge decides.
    ("The event was held at Goddard Space Flight Center.", [VENUE, HELD], False),
    ("The event was held at Goddard Space Flight Center.", [HELD], False),
])
def test_a_claim_does_not_state_as_done_what_is_announced(claim, sentences, done):
    assert states_future_as_done(claim, sentences) is done


PROPOSED = ("As the first step on the path to peace, the United States put forward a proposal for an immediate, "
            "unconditional, and comprehensive ceasefire.")


@pytest.mark.parametrize("claim, sentences, intended", [
    # A deed reported as an intention: refused.
    ("The United States said it would put forward a proposal for a ceasefire.", [PROPOSED], True),
    ("The United States pledged to propose a ceasefire.", [PROPOSED], True),
    # The deed as done, or the sources speak of the future: allowed.
    ("The United States said it put forward a proposal for a ceasefire.", [PROPOSED], False),
    ("The United States proposed a ceasefire.", [PROPOSED], False),
    ("The United States said it would propose a ceasefire.", ["The United States will propose a ceasefire."], False),
    ("Peskov said to reporters that nothing was agreed.", ["Peskov said nothing was agreed."], False),
])
def test_a_claim_does_not_report_a_deed_as_an_intention(claim, sentences, intended):
    assert states_done_as_intended(claim, sentences) is intended
