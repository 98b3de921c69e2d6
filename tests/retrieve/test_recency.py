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
