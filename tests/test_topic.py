"""The off-topic gate: the one check before the model is asked (rag/answer/topic.py)."""

from __future__ import annotations

from rag.answer.topic import on_topic
from rag.net import free_port

OFF_TOPIC = ("What is the boiling point of liquid nitrogen?", "Who won the 2030 World Cup?")


def test_questions_on_the_librarys_subjects_pass_and_others_stop(corpus_library):
    assert on_topic(corpus_library.evidence("Who is the Kremlin spokesperson?").evidence)
    assert on_topic(corpus_library.evidence("What did the Kremlin say about the peace plan?").evidence)
    for question in OFF_TOPIC:
        assert not on_topic(corpus_library.evidence(question).evidence), question
    assert not on_topic([])


def test_an_off_topic_question_abstains_in_llm_mode_without_calling_the_model(corpus_library):
    """The endpoint is a closed port: any call would fail and say so in a notice."""
    from rag.library import Library

    url = f"http://127.0.0.1:{free_port()}/v1"
    library = Library(corpus_library.settings.with_overrides(llm="openai", openai_base_url=url, openai_api_key="x",
                                                             llm_timeout_s=5.0))
    answer = library.ask(OFF_TOPIC[0], mode="llm")
    assert answer.abstained and answer.mode == "llm" and answer.notice is None, answer
    assert not answer.citations
