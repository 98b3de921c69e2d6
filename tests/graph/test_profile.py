"""Profiles and session summaries, read from what memory holds now, over SQLite and PostgreSQL:
what each section holds, that only current statements appear, that every line cites its unit,
and that a summary keeps to its session and its budget."""

from __future__ import annotations

import pytest

from eidetica import Memory, NotFoundError, UsageError

U = "sam"


@pytest.fixture
def told(mem: Memory) -> Memory:
    mem.add(
        [
            {"role": "user", "name": "Sam", "content": "I live in Lisbon. My sister Ana works at Nubank."},
            {"role": "assistant", "content": "That sounds lovely. What do you do for fun?"},
            {"role": "user", "name": "Sam", "content": "I love jazz and I'm allergic to peanuts."},
            {"role": "user", "name": "Sam", "content": "I'm learning the piano. My dog Max is three."},
            {"role": "user", "name": "Sam", "content": "Ana thinks I should try the Porto jazz festival."},
        ],
        user_id=U,
        session_id="march",
        timestamp="2024-03-01T10:00:00Z",
    )
    mem.add(
        [{"role": "user", "name": "Sam", "content": "I moved from Lisbon to Oslo last week."}],
        user_id=U,
        session_id="september",
        timestamp="2024-09-01T10:00:00Z",
    )
    return mem


def sections(memory: Memory, **kwargs: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in memory.profile(user_id=U, **kwargs).lines:
        found.setdefault(line.section, []).append(line.text)
    return found


def test_a_profile_files_what_holds_now_under_its_section(told: Memory) -> None:
    profile = sections(told)
    assert any("Oslo" in text for text in profile["attributes"])
    assert "Sam lives in Lisbon." not in [t for texts in profile.values() for t in texts]  # moved since
    assert any("Sam's sister Ana" in text for text in profile["relationships"])
    assert any("Sam's dog Max" in text for text in profile["relationships"])
    assert any("jazz" in text for text in profile["preferences"])
    assert any("piano" in text for text in profile["activities"])


def test_every_line_quotes_a_current_unit_with_its_sources(told: Memory) -> None:
    profile = told.profile(user_id=U)
    assert profile.entity.name == "Sam" and profile.tokens > 0
    for line in profile.lines:
        unit = told.get(line.unit_id, user_id=U)
        assert unit.text == line.text and unit.valid_to is None and unit.status == "active"
        assert line.sources == unit.sources and line.sources


def test_a_correction_and_a_deletion_reach_the_profile(told: Memory) -> None:
    jazz = next(line for line in told.profile(user_id=U).lines if "jazz" in line.text)
    told.update(jazz.unit_id, "Sam loves blues and Sam is allergic to peanuts.", user_id=U)
    piano = next(line for line in told.profile(user_id=U).lines if "piano" in line.text)
    told.delete(piano.unit_id, user_id=U)
    texts = [line.text for line in told.profile(user_id=U).lines]
    assert "Sam loves blues and Sam is allergic to peanuts." in texts
    assert not any("jazz" in text or "piano" in text for text in texts)


def test_another_persons_profile_is_theirs_alone(told: Memory) -> None:
    ana = told.profile(user_id=U, name="ana")
    assert ana.entity.key == "ana"
    assert not any(text.startswith("Sam ") for text in (line.text for line in ana.lines))
    with pytest.raises(NotFoundError):
        told.profile(user_id=U, name="Zorro")


def test_without_a_name_the_profile_is_the_users_and_needs_one(mem: Memory) -> None:
    mem.add({"role": "user", "content": "I live in Paris."}, user_id="nameless")
    with pytest.raises(UsageError, match="no user who gave a name"):
        mem.profile(user_id="nameless")


def test_a_summary_keeps_to_its_session_and_its_budget(told: Memory) -> None:
    summary = told.summary("march", user_id=U, budget_tokens=40)
    assert summary.session_id == "march" and summary.budget_tokens == 40
    assert 0 < summary.tokens <= 40
    assert summary.text.startswith("[1 March 2024]")
    quoted = [told.get(uid, user_id=U) for uid in summary.unit_ids]
    assert quoted and all(u.scope.session_id == "march" and u.kind in ("fact", "event") for u in quoted)
    assert all(u.text in summary.text for u in quoted)
    assert set(summary.sources) == {s for u in quoted for s in u.sources}
    whole = told.summary("march", user_id=U, budget_tokens=2000)
    assert len(whole.unit_ids) > len(summary.unit_ids)  # a larger budget quotes more


def test_a_summary_shows_only_what_holds_now(told: Memory) -> None:
    text = told.summary("march", user_id=U, budget_tokens=2000).text
    assert "Sam lives in Lisbon." not in text  # closed by September's move


def test_an_unknown_session_or_a_bad_budget_is_refused(told: Memory) -> None:
    with pytest.raises(NotFoundError, match="no session 'june'"):
        told.summary("june", user_id=U)
    with pytest.raises(NotFoundError):
        told.summary("march", user_id="someone-else")
    with pytest.raises(UsageError, match="budget_tokens"):
        told.summary("march", user_id=U, budget_tokens=0)
