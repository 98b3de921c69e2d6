"""Current first where the rules cannot tell: the newer of two matching statements by one speaker
ranks first for a question about now, and both stay findable; a question about the past is left
alone."""

from __future__ import annotations

from eidetica import Memory


def test_the_newer_rival_ranks_first_for_a_present_question(memory: Memory) -> None:
    old = "I do my grocery shopping at Lidl on Saturdays."
    new = "Switched my grocery shopping to Ocado deliveries on Saturdays."
    memory.add([{"role": "user", "name": "Helga", "content": old}], user_id="h", timestamp="2024-01-06")
    memory.add([{"role": "user", "name": "Helga", "content": new}], user_id="h", timestamp="2024-05-11")
    hits = memory.search("Where does Helga do her grocery shopping?", user_id="h", k=6)
    texts = [h.text for h in hits]
    assert any("Ocado" in t for t in texts) and any("Lidl" in t for t in texts)
    first_new = next(i for i, t in enumerate(texts) if "Ocado" in t)
    first_old = next(i for i, t in enumerate(texts) if "Lidl" in t)
    assert first_new < first_old, texts
    past = memory.search("Where did Helga do her grocery shopping in January 2024?", user_id="h", k=6)
    assert not any("newer" in h.scores for h in past)


def test_two_statements_naming_what_the_question_asks_in_other_words_are_rivals(memory: Memory) -> None:
    # No word in common, but both are about where Kasia lives ("flat", "lease", "apartment").
    old = "My flat in Krakow is tiny but five minutes from the Planty."
    new = "Signed the lease on an apartment in Gdansk last week."
    memory.add([{"role": "user", "name": "Kasia", "content": old}], user_id="k", timestamp="2022-01-10")
    memory.add([{"role": "user", "name": "Kasia", "content": new}], user_id="k", timestamp="2023-04-03")
    hits = memory.search("Where does Kasia live?", user_id="k", k=6)
    texts = [h.text for h in hits]
    first_new = next(i for i, t in enumerate(texts) if "Gdansk" in t)
    first_old = next(i for i, t in enumerate(texts) if "Krakow" in t)
    assert first_new < first_old, texts
    # The statement derived from the newer turn was lifted above the older statement's.
    assert any("newer" in h.scores for h in hits if "Gdansk" in h.text)


def test_two_facts_or_events_naming_a_word_of_the_question_are_rivals(memory: Memory) -> None:
    # One word in common, the one the question asks about: short statements about one thing.
    old = "Biscuit gets Acana kibble twice a day."
    new = "The vet put Biscuit on a hydrolysed diet from Hill's."
    memory.add([{"role": "user", "name": "Zoe", "content": old}], user_id="z", timestamp="2022-01-10")
    memory.add([{"role": "user", "name": "Zoe", "content": new}], user_id="z", timestamp="2023-04-03")
    hits = memory.search("What food does Biscuit get?", user_id="z", k=6)
    lifted = [h for h in hits if "newer" in h.scores]
    assert [h.unit.kind for h in lifted] == ["event"] and "Hill's" in lifted[0].text
    texts = [h.text for h in hits]
    assert texts.index(lifted[0].text) < next(i for i, t in enumerate(texts) if "Acana" in t), texts
