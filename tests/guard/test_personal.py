"""Personal data and secrets are found and masked; the numbers and words of ordinary chat are not."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eidetica.guard.personal import KINDS, Finding, find_personal_data, mask


def found(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.text) for f in find_personal_data(text)]


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("Sure, my email is jane.doe+work@example.co.uk.", "email", "jane.doe+work@example.co.uk"),
        ("o_haddad99@uni-hamburg.de is the best address", "email", "o_haddad99@uni-hamburg.de"),
        ("Call me on +44 20 7946 0958 after six.", "phone", "+44 20 7946 0958"),
        ("Tel:+33 6 12 34 56 78", "phone", "+33 6 12 34 56 78"),
        ("my number is (415) 555-2671", "phone", "(415) 555-2671"),
        ("ring 1-800-555-0199 tomorrow", "phone", "1-800-555-0199"),
        ("UK mobile 07700 900123.", "phone", "07700 900123"),
        ("landline 020 7946 0958", "phone", "020 7946 0958"),
        ("mon portable: 06 12 34 56 78", "phone", "06 12 34 56 78"),
        ("from abroad dial 0044 20 7946 0958", "phone", "0044 20 7946 0958"),
        ("+44 (0)20 7946 0958 is the office", "phone", "+44 (0)20 7946 0958"),
        ("My mobile is 612 345 678.", "phone", "612 345 678"),
        ("Charge 4111 1111 1111 1111 please", "card", "4111 1111 1111 1111"),
        ("Amex 3782-822463-10005 on file", "card", "3782-822463-10005"),
        ("card 5555555555554444", "card", "5555555555554444"),
        ("IBAN DE89 3704 0044 0532 0130 00, thanks", "iban", "DE89 3704 0044 0532 0130 00"),
        ("send it to GB82WEST12345698765432.", "iban", "GB82WEST12345698765432"),
        ("SSN 078-05-1120 on the form", "national_id", "078-05-1120"),
        ("my NI number is AB 12 34 56 C", "national_id", "AB 12 34 56 C"),
        ("DNI 12345678Z", "national_id", "12345678Z"),
        ("NIE X1234567L for the lease", "national_id", "X1234567L"),
        ("BSN: 111222333", "national_id", "111222333"),
        ("my password is hunter2!", "password", "hunter2!"),
        ("password: Tr0ub4dor&3.", "password", "Tr0ub4dor&3"),
        ("login jdoe pwd=S3cr3t;", "password", "S3cr3t"),
        ("The wifi password for the guest network is Bl4ckC@t", "password", "Bl4ckC@t"),
        ("my PIN is 4821", "password", "4821"),
        ("key sk-proj-abc123DEF456ghi789JKL012mno345", "secret", "sk-proj-abc123DEF456ghi789JKL012mno345"),
        (
            "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 leaked",
            "secret",
            "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        ),
        (
            "github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyz0123456789",
            "secret",
            "github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyz0123456789",
        ),
        ("slack xoxb-123456789012-abcdefGHIJ", "secret", "xoxb-123456789012-abcdefGHIJ"),
        ("AKIAIOSFODNN7EXAMPLE is the id", "secret", "AKIAIOSFODNN7EXAMPLE"),
        (
            "maps key AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
            "secret",
            "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
        ),
        (
            "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "secret",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        ),
        (
            "export OPENAI_API_KEY=D9wxUeciUD9xslzmVItp27PoXEBjeJ0z",
            "secret",
            "D9wxUeciUD9xslzmVItp27PoXEBjeJ0z",
        ),
        ("use a8F3kL9mQ2xZ7pR4tV6wY1bNc5 for the CI job", "secret", "a8F3kL9mQ2xZ7pR4tV6wY1bNc5"),
        ("the server is 192.168.1.20.", "ip_address", "192.168.1.20"),
        ("dashboard on 10.0.3.7:8080", "ip_address", "10.0.3.7"),
    ],
)
def test_each_kind_is_found_with_its_span(text: str, kind: str, value: str) -> None:
    findings = find_personal_data(text)
    assert [f.kind for f in findings] == [kind], findings
    assert findings[0].text == text[findings[0].start : findings[0].end] == value


@pytest.mark.parametrize(
    "text",
    [
        # Checksums and issuing rules that fail.
        "My reference number is 4111 1111 1111 1112.",
        "The IBAN DE89 3704 0044 0532 0130 01 was rejected.",
        "The IBAN XX89 3704 0044 0532 0130 00 is not a country's.",
        "DNI 12345678A is a typo.",
        "The SSN field said 000-12-3456, then 666-12-3456, then 912-34-5678.",
        "QQ123456C is the example NINO.",
        "BSN 123456789 fails the 11-proof.",
        "16 digits starting with 1: 1234 5678 9012 3456.",
        # Numbers chat is full of.
        "Let's meet on 2023-04-05 at 14:30.",
        "We're meeting on 05.04.2023 at 10:00, or 12/03/2024.",
        "The rent went up to $1,450, it costs €1.200,00 with tax.",
        "I paid 1,200 for the flight.",
        "I upgraded to 3.2.1, then version 1.2.3.4, then Python 3.11.7.",
        "Windows 10 build 19045.2364 broke the driver.",
        "We moved there in 1999 and left in 2004.",
        "They live at 221 Baker Street.",
        "Order 88213 still hasn't shipped.",
        "The meeting is in room B214.",
        "My chess rating is 1450.",
        "The office is open 0900-1700.",
        "In an emergency call 911, or call me at 5.",
        "The ISBN is 978-0-306-40615-7.",
        "Zoom meeting ID: 845 2913 0067.",
        "The city has a population of 8,336,817.",
        "Pi is roughly 3.14159265358979.",
        "The coordinates are 51.5074, -0.1278.",
        "Revenue was 12 345 678 euros.",
        "Server 10.0.0.256 is no address.",
        # Identifiers that are no credential.
        "It was fixed in commit 3f786850e387550fdab836ed7e6dc881de23001b last week.",
        "The request id was 550e8400-e29b-41d4-a716-446655440000.",
        "The slug is how-to-train-your-dragon-2019.",
        "The file is backup_2023_final_v2_copy_old.tar.",
        "See https://github.com/org/repo/blob/main/src/module2file.py for details.",
        "CamelCaseIdentifierWithNumbers2024 is the class.",
        "sk-learn-is-a-great-library-for-machine-learning",
        # Words around passwords that name none.
        "I forgot my password again.",
        "My password is wrong, it keeps saying so.",
        "The password is too short.",
        "password: ********",
        "The pin on the map is wrong.",
        "The mountain pass is closed.",
        "My token expired, I need a new one.",
        # Ordinary words.
        "I think we should try the new ramen place downtown.",
        "Email me when you're back; my phone died.",
    ],
)
def test_ordinary_chat_holds_no_personal_data(text: str) -> None:
    assert found(text) == []


def test_findings_come_in_order_without_overlap() -> None:
    text = "mail jane@example.com, call +44 20 7946 0958, card 4111 1111 1111 1111, ip 10.1.2.3"
    findings = find_personal_data(text)
    assert [f.kind for f in findings] == ["email", "phone", "card", "ip_address"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(findings))


def test_a_checksum_wins_over_a_shape() -> None:
    """A card's digits also look like a long number; the Luhn-checked reading is the one kept."""
    assert found("card 4111-1111-1111-1111") == [("card", "4111-1111-1111-1111")]


@pytest.mark.parametrize(
    "text",
    [
        "The IBAN FR61 1900 1428 9727 0979 5905 782 was rejected.",
        "The IBAN NL08 RUZO 0771 7812 54 was rejected.",
        "The IBAN GB71 KHEV 6507 6684 3073 92 was rejected.",
    ],
)
def test_no_part_of_a_failed_iban_is_a_number_of_its_own(text: str) -> None:
    """Its tail would read as a phone ("0771 7812 54") or pass Luhn ("6507 6684 3073 92")."""
    assert found(text) == []


def test_two_ibans_in_a_row_are_both_found() -> None:
    text = "DE89 3704 0044 0532 0130 00 and NL91 ABNA 0417 1643 00"
    assert [kind for kind, _ in found(text)] == ["iban", "iban"]


def test_mask_replaces_each_finding_by_its_kind() -> None:
    text = "I'm jane@example.com, +44 20 7946 0958; my password is hunter2 and the key sk-" + "a1B2" * 6
    assert mask(text) == "I'm [email], [phone]; my password is [password] and the key [secret]"


def test_mask_takes_given_findings_and_keeps_the_first_of_overlapping_ones() -> None:
    text = "abcdef"
    findings = [Finding("secret", 1, 4, "bcd"), Finding("phone", 2, 5, "cde"), Finding("email", 5, 6, "f")]
    assert mask(text, findings) == "a[secret]e[email]"
    assert mask(text, []) == text


def test_mask_leaves_text_without_personal_data_unchanged() -> None:
    text = "We moved there in 1999, order 88213, room B214, at 14:30 on 2023-04-05."
    assert mask(text) == text


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_findings_are_slices_in_order_of_known_kinds(text: str) -> None:
    findings = find_personal_data(text)
    assert all(f.kind in KINDS and f.text == text[f.start : f.end] and f.start < f.end for f in findings)
    assert all(a.end <= b.start for a, b in itertools.pairwise(findings))


@pytest.mark.parametrize(
    "text",
    ["1" * 20_000, "1 " * 10_000, "+" + "1 " * 5_000, "a@" + "a." * 5_000, "A1" * 10_000, "DE89 " * 4_000],
)
def test_long_adversarial_input_is_read_whole(text: str) -> None:
    """Hostile turns are screened like any other (a pattern that backtracked without bound would
    hang here; its speed is measured by benchmarks/pii.py, not asserted)."""
    findings = find_personal_data(text)
    assert all(f.text == text[f.start : f.end] for f in findings)
    assert all(a.end <= b.start for a, b in itertools.pairwise(findings))
