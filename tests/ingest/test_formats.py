"""Input formats: every parser returns turns or raises a precise UsageError / InputFormatError."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eidetica.errors import InputFormatError, UsageError
from eidetica.ingest.formats import (
    MAX_TURN_CHARS,
    ParsedFile,
    content_ref,
    from_messages,
    from_text,
    read_file,
    read_jsonl,
    read_locomo,
    read_text_file,
)
from eidetica.limits import MAX_LABEL_CHARS, MAX_MESSAGES
from eidetica.model import TurnInput

LOCOMO_DEV = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "locomo"
LOCOMO_DEV = LOCOMO_DEV / "locomo10_dev.json"
T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


# --- from_text / from_messages ------------------------------------------------------------------


def test_from_text_is_one_user_turn() -> None:
    [turn] = from_text("hello there", session_id="s1", timestamp=T0, ref="r1")
    assert turn == TurnInput(
        "hello there", speaker="user", role="user", timestamp=T0, session_id="s1", ref="r1"
    )


def test_from_text_rejects_empty() -> None:
    with pytest.raises(UsageError, match="text is empty"):
        from_text("  \n ")


def test_from_messages_string_is_user_turn() -> None:
    [turn] = from_messages("I moved to Lisbon", session_id=None, timestamp=None)
    assert (turn.content, turn.role, turn.speaker) == ("I moved to Lisbon", "user", "user")


def test_from_messages_single_dict_and_list() -> None:
    [one] = from_messages({"role": "assistant", "content": "ok"}, session_id=None, timestamp=None)
    assert (one.role, one.speaker) == ("assistant", "assistant")
    turns = from_messages(
        [
            {"role": "user", "content": "hi", "name": "Caroline", "id": 7},
            {"role": "assistant", "content": "hello", "id": "m-2", "metadata": {"k": [1, 2]}},
            {"role": "tool", "content": "42", "timestamp": "2023-05-08T13:56:00Z"},
            {"role": "narrator", "content": "any role string is kept"},
        ],
        session_id="s9",
        timestamp=T0,
    )
    assert [t.speaker for t in turns] == ["Caroline", "assistant", "tool", "narrator"]
    assert [t.role for t in turns] == ["user", "assistant", "tool", "narrator"]
    assert [t.ref for t in turns] == ["7", "m-2", None, None]
    assert turns[1].metadata == {"k": [1, 2]}
    assert turns[0].timestamp == T0
    assert turns[2].timestamp == datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    assert {t.session_id for t in turns} == {"s9"}


def test_from_messages_joins_openai_content_parts() -> None:
    content = [
        {"type": "text", "text": "Look at this"},
        {"type": "image_url", "image_url": {"url": "https://example.invalid/x.png"}},
        {"type": "text", "text": "my new bike"},
    ]
    [turn] = from_messages([{"role": "user", "content": content}], session_id=None, timestamp=None)
    assert turn.content == "Look at this\nmy new bike"


def test_from_messages_metadata_is_copied() -> None:
    meta = {"a": 1}
    [turn] = from_messages({"content": "x", "metadata": meta}, session_id=None, timestamp=None)
    meta["a"] = 2
    assert turn.metadata == {"a": 1}


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        (42, "messages must be a str, a dict or a list of dicts, not int"),
        (["hi"], "message 0: must be a dict with 'role' and 'content', got str"),
        ([{"role": "user"}], "message 0: missing content"),
        ([{"role": "assistant", "content": None}], "message 0: content is null"),
        ([{"role": "user", "content": 5}], "message 0: content must be a string, got int"),
        ([{"content": "a"}, {"content": "b"}, {"content": ""}], "message 2: content is empty"),
        ([{"content": " \n\t"}], "message 0: content is empty"),
        ([{"content": "a", "role": 1}], "message 0: role must be a string, got int"),
        ([{"content": "a", "name": ["x"]}], "message 0: name must be a string, got list"),
        ([{"content": "a", "metadata": "x"}], "message 0: metadata must be an object"),
        ([{"content": "a", "metadata": {"x": {1, 2}}}], "message 0: metadata is not JSON"),
        ([{"content": "a", "id": 1.5}], "message 0: id must be a string or an integer"),
        ([{"content": "a", "id": True}], "message 0: id must be a string or an integer"),
        ([{"content": [{"type": "image_url"}]}], "message 0: content has no text parts"),
        ([{"content": [{"type": "text", "text": 3}]}], r"message 0: content\[0\].text must be"),
        ([{"content": "ok"}, {"content": "bad \udcff"}], "message 1: content is not valid Unicode"),
        ([{"content": "nul \x00 here"}], r"message 0: content contains a NUL character"),
        ([{"content": "a", "timestamp": "not a time at all"}], "message 0: timestamp"),
    ],
)
def test_from_messages_rejects(messages: object, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        from_messages(messages, session_id=None, timestamp=None)


def test_content_size_limit() -> None:
    big = "x" * 1_000_000 + " end"
    [turn] = from_messages({"content": big}, session_id=None, timestamp=None)
    assert len(turn.content) == 1_000_004
    with pytest.raises(UsageError, match="limit is 4,000,000"):
        from_messages({"content": "y" * (MAX_TURN_CHARS + 1)}, session_id=None, timestamp=None)


def test_messages_per_call_are_bounded() -> None:
    one = {"role": "user", "content": "a"}
    assert len(from_messages([one] * MAX_MESSAGES, session_id=None, timestamp=None)) == MAX_MESSAGES
    with pytest.raises(UsageError, match=r"^messages per add must be at most 1,000, got 500000; send fewer"):
        from_messages([one] * 500_000, session_id=None, timestamp=None)


def test_a_message_timestamp_outside_the_range_names_the_message() -> None:
    late = {"content": "hi", "timestamp": "9999-12-31T23:59:59-14:00"}
    with pytest.raises(UsageError, match=r"^message 1: timestamp: .*years 1000 to 9000 \(UTC\)"):
        from_messages([{"content": "ok"}, late], session_id=None, timestamp=None)


def test_an_integer_id_too_long_for_a_label_is_refused() -> None:
    with pytest.raises(UsageError, match=r"message 0: id is longer than 1,000 characters"):
        from_messages({"content": "hi", "id": 10**5000}, session_id=None, timestamp=None)
    [turn] = from_messages(
        {"content": "hi", "id": 10 ** (MAX_LABEL_CHARS - 1)}, session_id=None, timestamp=None
    )
    assert turn.ref is not None and len(turn.ref) == MAX_LABEL_CHARS


json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.text(alphabet=st.characters(categories=["Cs", "Ll", "Cc", "Zs"]), max_size=8),
    st.sampled_from(["", " ", "\x00", "user", "text", "2023-05-08", "1:56 pm on 8 May, 2023"]),
)
json_key = st.one_of(
    st.sampled_from(["role", "content", "name", "id", "timestamp", "metadata", "type", "text"]),
    st.text(max_size=5),
)
json_like = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_key, inner, max_size=5),
    max_leaves=15,
)


@settings(max_examples=400, deadline=None)
@given(json_like)
def test_from_messages_returns_turns_or_raises_usage_error(messages: object) -> None:
    try:
        turns = from_messages(messages, session_id=None, timestamp=None)
    except UsageError:
        return
    for turn in turns:
        assert turn.content.strip()
        turn.content.encode("utf-8")  # storable text only


# --- JSONL ---------------------------------------------------------------------------------------


def test_jsonl_key_aliases_and_refs(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "chat.jsonl",
        [
            {
                "speaker": "Ann",
                "role": "user",
                "text": "one",
                "timestamp": "2023-05-08T13:56:00Z",
                "session": "s1",
                "id": "a1",
                "user": "u1",
                "metadata": {"x": 1},
            },
            {
                "name": "Bob",
                "content": "two",
                "time": 1683554160,
                "session_id": 3,
                "id": 17,
                "user_id": "u2",
            },
            {
                "role": "assistant",
                "content": [{"type": "text", "text": "three"}],
                "date": "1:56 pm on 8 May, 2023",
            },
        ],
    )
    parsed = read_jsonl(path)
    assert isinstance(parsed, ParsedFile)
    assert parsed.errors == []
    first, second, third = parsed.turns
    assert first == TurnInput(
        "one",
        speaker="Ann",
        role="user",
        timestamp=datetime(2023, 5, 8, 13, 56, tzinfo=UTC),
        session_id="s1",
        ref="a1",
        user_id="u1",
        metadata={"x": 1},
    )
    assert (second.speaker, second.content, second.session_id) == ("Bob", "two", "3")
    assert (second.ref, second.user_id) == ("17", "u2")
    assert second.timestamp == datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    assert (third.speaker, third.content) == ("assistant", "three")
    assert third.ref == content_ref(third)
    assert third.timestamp == datetime(2023, 5, 8, 13, 56, tzinfo=UTC)


def test_jsonl_skips_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"text": "a"}\n\n   \r\n{"text": "b"}\r\n')
    parsed = read_jsonl(path)
    assert [t.content for t in parsed.turns] == ["a", "b"]


# --- content refs --------------------------------------------------------------------------------

CHAT = [
    {"session": "s1", "speaker": "Ann", "text": "I moved to Lisbon.", "timestamp": "2023-05-08T10:00:00Z"},
    {"session": "s1", "speaker": "Bob", "text": "ok", "timestamp": "2023-05-08T10:01:00Z"},
    {"session": "s1", "speaker": "Bob", "text": "ok", "timestamp": "2023-05-08T10:01:00Z"},
    {"session": "s2", "speaker": "Ann", "text": "ok", "timestamp": "2023-05-08T10:01:00Z"},
    {"session": "s2", "speaker": "Ann", "text": "Bob is my brother.", "id": "own-id"},
]


def test_refs_without_id_are_content_hashes(tmp_path: Path) -> None:
    refs = [t.ref for t in read_jsonl(write_jsonl(tmp_path / "chat.jsonl", CHAT)).turns]
    assert refs[-1] == "own-id"  # an id of its own is kept
    assert all(re.fullmatch(r"h:[0-9a-f]{16}", ref or "") for ref in refs[:-1])
    assert len(set(refs)) == len(refs)  # two identical "ok" turns stay two turns; sessions differ


def test_content_refs_survive_renaming_and_reordered_sessions(tmp_path: Path) -> None:
    original = [t.ref for t in read_jsonl(write_jsonl(tmp_path / "a.jsonl", CHAT)).turns]
    renamed = [t.ref for t in read_jsonl(write_jsonl(tmp_path / "export-2.jsonl", CHAT)).turns]
    assert renamed == original
    reordered = read_jsonl(write_jsonl(tmp_path / "b.jsonl", CHAT[3:] + CHAT[:3])).turns
    assert sorted(str(t.ref) for t in reordered) == sorted(str(ref) for ref in original)
    by_text = {(t.session_id, t.content, t.ref) for t in reordered}
    assert by_text == {(t.session_id, t.content, t.ref) for t in read_jsonl(tmp_path / "a.jsonl").turns}


def test_content_refs_change_with_what_was_said(tmp_path: Path) -> None:
    base = read_jsonl(write_jsonl(tmp_path / "a.jsonl", CHAT[:1])).turns[0].ref
    for change in ({"session": "s9"}, {"speaker": "Eve"}, {"timestamp": "2024-01-01"}, {"text": "No."}):
        [turn] = read_jsonl(write_jsonl(tmp_path / "b.jsonl", [CHAT[0] | change])).turns
        assert turn.ref != base, change
    # The same moment written another way is the same turn.
    same = CHAT[0] | {"timestamp": "2023-05-08 12:00:00+02:00"}
    assert read_jsonl(write_jsonl(tmp_path / "c.jsonl", [same])).turns[0].ref == base


def test_content_refs_in_json_messages_and_text_files(tmp_path: Path) -> None:
    messages = [{"role": "user", "content": "hi"}, {"role": "user", "content": "hi"}]
    (tmp_path / "one.json").write_text(json.dumps(messages), encoding="utf-8")
    (tmp_path / "two.json").write_text(json.dumps({"messages": messages}), encoding="utf-8")
    one = [t.ref for t in read_file(tmp_path / "one.json").turns]
    assert one == [t.ref for t in read_file(tmp_path / "two.json").turns]
    assert one[0] != one[1]
    (tmp_path / "notes.txt").write_text("Some notes.", encoding="utf-8")
    (tmp_path / "copy.md").write_text("Some notes.", encoding="utf-8")
    assert read_file(tmp_path / "notes.txt").turns[0].ref == read_file(tmp_path / "copy.md").turns[0].ref


@pytest.mark.parametrize(
    "stamp",
    [
        "2023-05-08T13:56:00Z",
        "2023-05-08T15:56:00+02:00",
        "2023-05-08 13:56:00",
        1683554160,
        1683554160.0,
        "1:56 pm on 8 May, 2023",
    ],
)
def test_jsonl_accepts_odd_timestamps(tmp_path: Path, stamp: object) -> None:
    path = write_jsonl(tmp_path / "t.jsonl", [{"text": "x", "timestamp": stamp}])
    [turn] = read_jsonl(path).turns
    assert turn.timestamp == datetime(2023, 5, 8, 13, 56, tzinfo=UTC)


def test_jsonl_rejects_unparseable_timestamp_with_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "t.jsonl", [{"text": "x"}, {"text": "y", "date": "not a time"}])
    with pytest.raises(InputFormatError, match=r"t\.jsonl, line 2: date: ") as info:
        read_jsonl(path)
    assert (info.value.source, info.value.line) == ("t.jsonl", 2)


def test_jsonl_malformed_json_names_line(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text('{"text": "a"}\n{"text": "b"}\n{"text": "c",,}\n', encoding="utf-8")
    with pytest.raises(InputFormatError, match=r"m\.jsonl, line 3: malformed JSON") as info:
        read_jsonl(path)
    assert info.value.line == 3


def test_jsonl_invalid_utf8_names_line_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "u.jsonl"
    path.write_bytes(b'{"text": "ok"}\n{"text": "caf\xe9"}\n')
    with pytest.raises(InputFormatError, match="line 2: invalid UTF-8 at byte offset 28") as info:
        read_jsonl(path)
    assert info.value.line == 2


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ([1, 2], "expected a JSON object, got list"),
        ("text", "expected a JSON object, got str"),
        ({"speaker": "a"}, 'missing text \\(give a "text" or "content" field\\)'),
        ({"text": None}, "missing text"),
        ({"text": 3}, "text must be a string, got int"),
        ({"content": ""}, "content is empty"),
        ({"text": "a", "speaker": 3}, "speaker must be a string, got int"),
        ({"text": "a", "name": True}, "name must be a string, got bool"),
        ({"text": "a", "session": [1]}, "session must be a string or an integer, got list"),
        ({"text": "a", "user_id": {}}, "user_id must be a string or an integer, got dict"),
        ({"text": "a", "metadata": [1]}, "metadata must be an object"),
        ({"text": "a", "metadata": {"x": float("nan")}}, "metadata is not JSON-serialisable"),
        ({"text": "a\u0000b"}, "text contains a NUL character"),
        ({"text": "bad \ud800 pair"}, "text is not valid Unicode text"),
    ],
)
def test_jsonl_wrong_types_name_field_and_line(tmp_path: Path, row: Any, message: str) -> None:
    path = write_jsonl(tmp_path / "w.jsonl", [{"text": "fine"}, row])
    with pytest.raises(InputFormatError, match=f"w\\.jsonl, line 2: {message}"):
        read_jsonl(path)


def test_jsonl_number_too_long_to_read_names_line(tmp_path: Path) -> None:
    path = tmp_path / "n.jsonl"
    path.write_text('{"text": "fine"}\n{"text": "hi", "id": 1' + "0" * 5000 + "}\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match=r"n.jsonl, line 2: malformed JSON: a number of more than"):
        read_jsonl(path)
    whole = tmp_path / "n.json"
    whole.write_text('[{"content": "hi", "id": 1' + "0" * 5000 + "}]", encoding="utf-8")
    with pytest.raises(InputFormatError, match=r"n.json: malformed JSON: a number of more than"):
        read_file(whole)


def test_jsonl_size_limit(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "big.jsonl", [{"text": "é" * 1_000_000}])
    assert len(read_jsonl(path).turns[0].content) == 1_000_000
    path = write_jsonl(tmp_path / "huge.jsonl", [{"text": "z" * (MAX_TURN_CHARS + 1)}])
    with pytest.raises(InputFormatError, match="line 1: text is 4,000,001 characters"):
        read_jsonl(path)


def test_jsonl_validates_whole_file_before_returning(tmp_path: Path) -> None:
    path = tmp_path / "v.jsonl"
    path.write_text('{"text": "a"}\n{"text": ""}\n{"text": "c"}\nnope\n', encoding="utf-8")
    with pytest.raises(InputFormatError, match=r"line 2: text is empty \(and 1 more invalid"):
        read_jsonl(path)


def test_jsonl_skip_invalid_keeps_good_turns(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"text": "a"}\n{"text": ""}\n\xff\xfe\n{"text": "d"}\n[1]\n')
    parsed = read_jsonl(path, skip_invalid=True)
    assert [t.content for t in parsed.turns] == ["a", "d"]
    assert [e.line for e in parsed.errors] == [2, 3, 5]
    assert all(isinstance(e, InputFormatError) and e.source == "s.jsonl" for e in parsed.errors)
    assert "invalid UTF-8 at byte offset 27" in str(parsed.errors[1])


def test_jsonl_of_100k_lines_gives_every_turn_its_own_ref(tmp_path: Path) -> None:
    # Every line is read, each turn apart; how long that takes is no test's to assert (a loaded
    # machine is slow).
    path = tmp_path / "many.jsonl"
    row = '{"speaker": "Ann", "text": "line number %d of a long chat", "timestamp": 1683554160}\n'
    path.write_text("".join(row % i for i in range(100_000)), encoding="utf-8")
    parsed = read_jsonl(path)
    assert len(parsed.turns) == 100_000
    assert len({t.ref for t in parsed.turns}) == 100_000
    assert parsed.turns[-1].content == "line number 99999 of a long chat"


# --- LoCoMo --------------------------------------------------------------------------------------


def locomo_sample(sample_id: str = "conv-x") -> dict[str, Any]:
    return {
        "sample_id": sample_id,
        "qa": [],
        "conversation": {
            "speaker_a": "Ann",
            "speaker_b": "Bob",
            "session_1_date_time": "9:05 am on 2 March, 2022",
            "session_1": [
                {"speaker": "Ann", "dia_id": "D1:1", "text": "I adopted a cat."},
                {
                    "speaker": "Bob",
                    "dia_id": "D1:2",
                    "text": "Nice!",
                    "img_url": ["u"],
                    "blip_caption": "a photo of a grey cat",
                    "query": "cat",
                },
                {
                    "speaker": "Ann",
                    "dia_id": "D1:3",
                    "text": "Her name is Miso.",
                    "blip_caption": None,
                },
            ],
            "session_10_date_time": "6:00 pm on 1 April, 2022",
            "session_10": [{"speaker": "Bob", "dia_id": "D10:1", "text": "How is Miso?"}],
            "session_2_date_time": "1:00 pm on 10 March, 2022",  # a date with no session
        },
    }


def test_read_locomo_synthetic(tmp_path: Path) -> None:
    path = tmp_path / "loco.json"
    path.write_text(json.dumps([locomo_sample()]), encoding="utf-8")
    parsed = read_locomo(path)
    assert parsed.errors == []
    assert [t.ref for t in parsed.turns] == ["D1:1", "D1:2", "D1:3", "D10:1"]
    first, second, third, fourth = parsed.turns
    assert first == TurnInput(
        "I adopted a cat.",
        speaker="Ann",
        role=None,
        timestamp=datetime(2022, 3, 2, 9, 5, tzinfo=UTC),
        session_id="conv-x/session_1",
        ref="D1:1",
        user_id="conv-x",
        metadata={},
    )
    assert second.content == "Nice! [shares a photo: a photo of a grey cat]"
    assert third.content == "Her name is Miso."
    assert third.timestamp == datetime(2022, 3, 2, 9, 5, 2, tzinfo=UTC)
    assert (fourth.session_id, fourth.timestamp) == (
        "conv-x/session_10",
        datetime(2022, 4, 1, 18, 0, tzinfo=UTC),
    )
    # One sample object (not in a list) reads the same; read_file detects LoCoMo by content.
    path.write_text(json.dumps(locomo_sample()), encoding="utf-8")
    assert read_file(path).turns == parsed.turns


def test_read_locomo_errors_name_sample_session_and_turn(tmp_path: Path) -> None:
    sample = locomo_sample("conv-26")
    sample["conversation"]["session_10"].append({"speaker": "Ann", "dia_id": "D10:2"})
    sample["conversation"]["session_1"][0]["speaker"] = 5
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([sample, {"conversation": {}}]), encoding="utf-8")
    with pytest.raises(InputFormatError, match="sample conv-26, session_1, turn 1: speaker must"):
        read_locomo(path)
    parsed = read_locomo(path, skip_invalid=True)
    assert len(parsed.turns) == 3
    assert [str(e) for e in parsed.errors] == [
        "bad.json: sample conv-26, session_1, turn 1: speaker must be a string, got int",
        "bad.json: sample conv-26, session_10, turn 2: missing text",
        "bad.json: sample 1: missing sample_id",
    ]


def test_read_locomo_bad_session_date(tmp_path: Path) -> None:
    sample = locomo_sample()
    sample["conversation"]["session_10_date_time"] = "sometime in spring"
    path = tmp_path / "d.json"
    path.write_text(json.dumps(sample), encoding="utf-8")
    with pytest.raises(InputFormatError, match="sample conv-x, session_10: session_10_date_time"):
        read_locomo(path)


@pytest.mark.parametrize("date", ["9999-12-31T23:59:59", "11:59 pm on 31 December, 9999", "0001-01-02"])
def test_read_locomo_session_date_outside_the_range(tmp_path: Path, date: str) -> None:
    # Once an OverflowError (a second per turn past the year 9999) or a year no store reads back.
    sample = locomo_sample()
    sample["conversation"]["session_1_date_time"] = date
    path = tmp_path / "d.json"
    path.write_text(json.dumps(sample), encoding="utf-8")
    with pytest.raises(
        InputFormatError,
        match=r"sample conv-x, session_1: session_1_date_time: .* is out of range: times must lie in "
        r"the years 1000 to 9000",
    ):
        read_file(path)


def test_a_locomo_sample_without_its_conversation_names_the_key(tmp_path: Path) -> None:
    sample = locomo_sample()
    del sample["conversation"]
    path = tmp_path / "loco.json"
    path.write_text(json.dumps([sample]), encoding="utf-8")
    expected = r'loco.json: sample conv-x: missing the "conversation" key'
    with pytest.raises(InputFormatError, match=expected):
        read_file(path)  # told from messages by its sample_id
    with pytest.raises(InputFormatError, match=expected):
        read_locomo(path)


@pytest.mark.skipif(not LOCOMO_DEV.exists(), reason=f"LoCoMo dev data not found at {LOCOMO_DEV}")
def test_read_locomo_dev_data() -> None:
    parsed = read_locomo(LOCOMO_DEV)
    assert parsed.errors == []
    samples = {t.user_id for t in parsed.turns}
    assert len(samples) == 5
    conv26 = [t for t in parsed.turns if t.user_id == "conv-26"]
    by_ref = {t.ref: t for t in conv26}
    assert by_ref["D1:3"].session_id == "conv-26/session_1"
    for turn in conv26:
        if turn.session_id == "conv-26/session_1":
            assert turn.timestamp is not None
            assert turn.timestamp.replace(second=0) == datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    stamps = [t.timestamp for t in conv26]
    assert stamps == sorted(stamps)  # type: ignore[type-var]
    assert any("[shares a photo: " in t.content for t in conv26)


# --- read_file and plain text --------------------------------------------------------------------


def test_read_file_detects_jsonl_and_text(tmp_path: Path) -> None:
    jsonl = write_jsonl(tmp_path / "a.JSONL", [{"text": "hi"}])
    assert read_file(jsonl).turns[0].content == "hi"
    for name in ("notes.txt", "notes.md"):
        (tmp_path / name).write_text("# Title\n\nSome notes.\n", encoding="utf-8")
        [turn] = read_file(tmp_path / name).turns
        assert (turn.content, turn.ref) == ("# Title\n\nSome notes.\n", content_ref(turn))
    assert read_text_file(tmp_path / "notes.md").turns[0].ref == content_ref(turn)


def test_read_file_json_messages_refs(tmp_path: Path) -> None:
    path = tmp_path / "msgs.json"
    messages = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b", "id": 9}]
    path.write_text(json.dumps(messages), encoding="utf-8")
    first, second = read_file(path).turns
    assert (first.ref, second.ref) == (content_ref(first), "9")
    path.write_text(json.dumps({"messages": messages}), encoding="utf-8")
    assert [t.content for t in read_file(path).turns] == ["a", "b"]
    path.write_text(json.dumps([*messages, {"role": "user"}]), encoding="utf-8")
    with pytest.raises(InputFormatError, match=r"msgs\.json: message 2: missing content"):
        read_file(path)
    parsed = read_file(path, skip_invalid=True)
    assert (len(parsed.turns), len(parsed.errors)) == (2, 1)


def test_read_file_format_override(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "chat.log", [{"text": "hi"}])
    assert read_file(path, format="jsonl").turns[0].content == "hi"
    assert read_file(path, format="text").turns[0].content == '{"text": "hi"}\n'
    with pytest.raises(UsageError, match="unknown format 'csv'; use one of: jsonl"):
        read_file(path, format="csv")


def test_read_file_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(UsageError, match=r"file not found: .*nope\.jsonl"):
        read_file(missing)
    (tmp_path / "x.csv").write_text("a,b\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match=r"unsupported file type '\.csv'; supported: \.jsonl"):
        read_file(tmp_path / "x.csv")
    (tmp_path / "u.json").write_bytes(b'[{"content": "\xc3\x28"}]')
    with pytest.raises(InputFormatError, match=r"u\.json, line 1: invalid UTF-8 at byte offset 14"):
        read_file(tmp_path / "u.json")
    (tmp_path / "m.json").write_text('[\n{"content": "a"},\n{"content": }\n]', encoding="utf-8")
    with pytest.raises(InputFormatError, match=r"m\.json, line 3: malformed JSON") as info:
        read_file(tmp_path / "m.json")
    assert info.value.line == 3
    with pytest.raises(UsageError, match=r"cannot read .*: Is a directory"):
        read_file(tmp_path)


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "file is empty"), (b"  \n", "file is empty"), (b"a\x00b", "file contains a NUL")],
)
def test_read_text_file_rejects(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(data)
    with pytest.raises(InputFormatError, match=f"t.txt: {message}"):
        read_text_file(path)
