"""What kind of thing a name is (a person, a pet, a place, an organisation), read from how the
sentences that mention it speak of it.

Each mention votes by the words around the name: "my friend Jean", "Jean said" (a person); "my dog
Max" (a pet); "moved to Lisbon", "the Grand Canyon" (a place); "works at Nubank", "Pine Street
Shelter" (an organisation). The kind with most votes wins; a name nothing speaks for is "other".
The people who speak in a conversation are people whatever their mentions say.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from ..model import EntityKind

__all__ = ["kind_of", "votes"]

_PEOPLE_NOUNS = (
    r"friends?|sister|brother|sibling|mom|mother|mum|dad|father|son|daughter|kids?|child|cousin|"
    r"aunt|uncle|grand(?:ma|mother|pa|father|son|daughter)|husband|wife|partner|boyfriend|"
    r"girlfriend|fianc[eé]e?|neighbou?r|co-?worker|colleague|boss|manager|mentor|teacher|coach|"
    r"therapist|doctor|classmate|roommate|buddy|pal|bestie|niece|nephew|named|called|guy|girl|"
    r"man|woman|lady|author|singer|artist|actor|actress|writer|musician|player|poet|painter"
)
_PEOPLE_VERBS = (
    r"said|says|told|tells|asked|asks|thinks|thought|wrote|writes|texted|laughed|smiled|cried|"
    r"married|helped|taught|explained|recommended|suggested|invited|introduced|promised|decided|"
    r"wants|wanted|feels|felt|hugged|knows|knew|himself|herself|and I|and me|is my|was my|"
    r"prefers|drinks|eats|lives|works|loves|likes|enjoys"
)
_PEOPLE_HAVE = (
    r"husband|wife|mom|mother|dad|father|son|daughter|kids|children|family|sister|brother|"
    r"birthday|friends?|parents|books?|novels?|songs?|music|albums?|story|life|skills|career"
)
#: What a title follows: "read Little Women", "the game Street Fighter".
_WORK_NOUNS = (
    r"watch|watched|watching|read|reading|play|played|playing|book|books|novel|movie|movies|film|"
    r"show|series|game|games|song|songs|album|saw|seen|listening to|listened to|sing|sang"
)
_BRAND_BEFORE = r"wearing|wear|wore|bought|buy|sponsored by|sponsor|sponsors|brand|deal with"
_PET_NOUNS = (
    r"dogs?|pupp(?:y|ies)|pups?|cats?|kittens?|kitty|pets?|bunny|rabbit|hamster|guinea pig|parrot|"
    r"bird|horse|pony|turtle|tortoise|fish|lizard|snake|ferret|terrier|retriever|labrador|poodle|"
    r"spaniel|beagle|bulldog|husky|collie|corgi|dachshund|tabby|mix"
)
_PLACE_WORDS = (
    r"Canyon|Park|Lake|River|Mountains?|Mount|Mt|Beach|Islands?|City|Town|Village|Street|St|Avenue|"
    r"Ave|Road|Bay|Valley|Falls|Forest|Desert|Coast|County|State|Country|Square|Bridge|Trail|Hills?"
)
_ORGANISATION_WORDS = (
    r"Inc|Corp|Corporation|Company|Co|LLC|Ltd|Bank|University|College|School|Academy|Institute|"
    r"Hospital|Clinic|Center|Centre|Shelter|Church|Foundation|Association|Club|Studio|Cafe|Café|"
    r"Restaurant|Store|Shop|Group|Agency|Team|Labs?|Airlines?|Museum|Library|Gym"
)
_PLACE_BEFORE = (
    r"in|to|from|near|visited|visit|visiting|around|across|through|towards?|into|lives in|"
    r"live in|moved to|trip to|flew to|drove to|back in|out of"
)
_WORK_BEFORE = (
    r"(?:work|works|worked|working|job|jobs|intern|interned|hired|employed|volunteer\w*)\s+(?:at|for|with)"
)


@lru_cache(maxsize=4096)
def _cues(name: str) -> tuple[tuple[EntityKind, re.Pattern[str]], ...]:
    n = re.escape(name)
    return (
        ("pet", re.compile(rf"\b(?:{_PET_NOUNS})(?:,)?\s+(?:named |called )?{n}\b", re.I)),
        ("pet", re.compile(rf"\b{n},?\s+(?:my|our|his|her|their|the)\s+(?:\w+\s+)?(?:{_PET_NOUNS})\b", re.I)),
        ("pet", re.compile(rf"\b(?:{_PET_NOUNS})\b.*\b(?:name is|name's|named|called)\s+{n}\b", re.I)),
        ("other", re.compile(rf"\b(?:{_WORK_NOUNS})\s+(?:the\s+|a\s+)?[\"“']?{n}\b", re.I)),
        ("organisation", re.compile(rf"\b(?:{_BRAND_BEFORE})\s+(?:the\s+|some\s+|new\s+)?{n}\b", re.I)),
        ("person", re.compile(rf"\b(?:{_PEOPLE_NOUNS})(?:,)?\s+{n}\b", re.I)),
        ("person", re.compile(rf"\b{n},?\s+(?:{_PEOPLE_VERBS})\b", re.I)),
        ("person", re.compile(rf"\b{n}['’]s\s+(?:new\s+|latest\s+|first\s+)?(?:{_PEOPLE_HAVE})\b", re.I)),
        ("person", re.compile(rf"\b(?:met|meet|meeting|thanks|thank)\s+{n}\b", re.I)),
        # "a book by Patrick Rothfuss", but not "the deal by Nike": a full name only.
        ("person", re.compile(rf"\bby\s+{n}\b" if " " in name else r"(?!)", re.I)),
        ("person", re.compile(rf"\b{n},?\s+(?:he|she)(?:'s|’s|\s+is|\s+was|\s+has)\b", re.I)),
        ("organisation", re.compile(rf"\b{_WORK_BEFORE}\s+(?:the\s+)?{n}\b", re.I)),
        ("place", re.compile(rf"\b(?:{_PLACE_BEFORE})\s+(?:the\s+)?{n}\b", re.I)),
    )


#: A language or a nationality ("Portuguese", "English", "Swedish"): no place, however "in" it is.
_LANGUAGE_NAME = re.compile(r"^[A-Z][a-z]+(?:ese|ish)$")
_PLACE_NAME = re.compile(rf"\b(?:{_PLACE_WORDS})$")
_ORGANISATION_NAME = re.compile(rf"\b(?:{_ORGANISATION_WORDS})$")


def votes(name: str, sentence: str) -> Counter[EntityKind]:
    """What one sentence that mentions ``name`` says it is; the first cue that matches counts."""
    counted: Counter[EntityKind] = Counter()
    for kind, cue in _cues(name):
        if cue.search(sentence):
            counted[kind] += 1
            break
    return counted


def kind_of(
    name: str, sentences: Iterable[str], speakers: Iterable[str] = (), turns: Iterable[str] = ()
) -> EntityKind:
    """The kind the mentions of ``name`` vote for; the name itself decides first ("Pine Lake" is a
    place, "Nubank Labs" an organisation), then its mentions. When those say nothing, the
    ``turns`` they were drawn from may say it is a pet: a pet's name often comes a sentence after
    the animal ("We adopted a puppy. Her name's Coco")."""
    key = name.lower()
    if any(key == speaker.lower() for speaker in speakers):
        return "person"
    if _LANGUAGE_NAME.match(name):
        return "other"
    if _PLACE_NAME.search(name):
        return "place"
    if _ORGANISATION_NAME.search(name):
        return "organisation"
    total: Counter[EntityKind] = Counter()
    for sentence in sentences:
        total.update(votes(name, sentence))
    if not total:  # the statements say nothing: what the turns say of a pet decides
        total.update(kind for turn in turns for kind in votes(name, turn) if kind == "pet")
    if total:
        (kind, _), *_ = total.most_common(1)
        return kind
    return "other"
