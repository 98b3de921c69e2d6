"""What people and things have, and the words that name it: a small lexicon.

Two statements that name one attribute with different words ("living in Valencia", "home is a flat
in Bilbao") are about the same thing: reconciliation (``ingest.topics``) reads them so. (Expanding
a question with its attribute's words, "diet" with "vegan", was tried as a retrieval channel and
left out: LoCoMo recall did not move and the truth scenarios moved both ways.)
"""

from __future__ import annotations

import re

from .retrieve.confidence import stem

__all__ = ["ATTRIBUTES", "SEVERAL_AT_ONCE", "attribute_of", "held_one_at_a_time"]

#: Attributes people and things have, each with the words that name it. Two statements naming
#: one attribute with different words ("living in Valencia", "home is an apartment in Bilbao")
#: share it as one point of topic.
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "home": ("live", "lives", "living", "lived", "home", "house", "flat", "apartment", "condo",
             "neighbourhood", "neighborhood", "bungalow", "cottage", "moved", "settled", "place",
             "relocated", "relocating", "relocation",
             "landlord", "landlady", "tenancy", "lease"),
    "work": ("work", "works", "working", "job", "employer", "employed", "company", "office",
             "hired", "position", "firm", "workplace", "shift", "shifts", "employee",
             "colleague", "colleagues", "coworker", "coworkers", "role",
             "apprentice", "apprenticeship",
             # What someone works as: "Solicitor now." after "I work as a paralegal". Not titles
             # whose stem is a common word: "waiter" (wait), "teacher" (teach), "designer" (design).
             "nurse", "barista", "paralegal", "solicitor", "lawyer", "attorney",
             "accountant", "electrician", "plumber", "chef", "waitress", "cashier", "pharmacist",
             "architect", "consultant", "analyst", "journeyman", "foreman", "receptionist", "clerk",
             "librarian", "mechanic", "carpenter", "firefighter", "paramedic", "midwife",
             "professor", "lecturer", "scientist", "freelancer", "bartender", "hygienist",
             "sommelier"),
    "diet": ("eat", "eats", "eating", "diet", "vegetarian", "vegan", "meat", "pescatarian", "keto",
             "paleo", "carnivore", "plant-based", "carbs", "fodmap", "low-fodmap", "gluten-free",
             "dairy-free", "lactose-free", "low-carb", "atkins", "whole30", "halal", "kosher",
             "flexitarian", "fasting"),
    "drink": ("drink", "drinks", "drinking", "coffee", "tea", "espresso", "latte", "cappuccino", "matcha",
              "beer", "wine", "juice", "soda", "cola", "smoothie", "milk", "water"),
    "travel": ("drive", "drives", "driving", "car", "bike", "cycle", "cycles", "commute",
               "commutes", "bus", "train", "tram", "scooter", "motorbike", "motorcycle", "moped", "subway",
               "metro", "carpool", "suv", "hatchback", "sedan", "van",
               # Car makes and unambiguous models: "my Volvo" is the car ("Golf", "Polo" are not).
               "volvo", "tesla", "honda", "toyota", "ford", "volkswagen", "vw", "bmw", "audi", "mercedes",
               "kia", "hyundai", "nissan", "mazda", "subaru", "rivian", "peugeot", "renault", "fiat",
               "skoda", "opel", "vauxhall", "chevrolet", "chevy", "jeep", "lexus", "porsche", "citroen",
               "dacia", "suzuki", "mitsubishi", "polestar", "byd", "corolla", "civic", "prius", "ioniq",
               "outback", "camry", "yaris", "clio", "qashqai"),
    "study": ("school", "study", "studies", "studying", "college", "university", "course",
              "degree", "class", "classes", "masters", "phd", "bachelor", "bachelors", "programme",
              "program", "major", "semester", "thesis", "mba", "diploma", "enrolled", "enrollment",
              "kindergarten", "lessons"),
    "weekday": ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
                "mondays", "tuesdays", "wednesdays", "thursdays", "fridays", "saturdays",
                "sundays", "weekend", "weekends", "weekday", "weekdays"),
    "clock": ("am", "pm", "o'clock", "midnight", "noon", "half"),
    "sleep": ("bed", "sleep", "sleeps", "asleep", "bedtime", "wake", "wakes", "alarm"),
    "partner": ("girlfriend", "boyfriend", "partner", "wife", "husband", "dating", "married",
                "fiance", "fiancee", "spouse", "engaged", "seeing"),
    "email": ("email", "e-mail", "mail", "inbox"),
    "address": ("address", "shipping", "deliver", "delivery", "deliveries", "postcode"),
    "doctor": ("doctor", "gp", "practitioner", "dentist", "vet", "vets", "clinic", "practice", "surgery",
               "physio", "therapist"),
    "shopping": ("shop", "shopping", "groceries", "grocery", "supermarket"),  # not "store": a story
    "phone": ("phone", "iphone", "android", "mobile", "smartphone", "pixel", "fairphone", "samsung",
              "galaxy", "nokia", "xiaomi", "oneplus", "motorola", "huawei", "oppo"),
    "computer": ("laptop", "computer", "pc", "macbook", "thinkpad", "desktop"),
    "boss": ("manager", "boss", "supervisor", "lead", "leader", "head", "report", "reports"),
    "exercise": ("gym", "run", "runs", "running", "swim", "swimming", "yoga", "pilates",
                 "workout", "crossfit", "climbing", "bouldering", "boxing", "tennis",
                 "football", "soccer", "basketball", "hiking", "rowing", "paddle", "paddling", "canoe",
                 "surfing", "surf", "dancing", "karate", "judo", "spin", "jogging", "laps", "lengths",
                 "aquafit", "zumba", "parkrun", "marathon"),
    "dose": ("dose", "dosage", "medication", "meds", "prescription", "tablet", "tablets", "pill",
             "pills", "mg", "mcg"),
    "weight": ("weigh", "weighs", "weight", "kg", "kilos", "lbs", "stone"),
    "pay": ("salary", "pay", "paid", "wage", "earn", "earns", "income", "raise"),
    "price": ("price", "cost", "costs", "fee", "fees", "rent", "charge", "charges", "bill", "premium",
              "premiums", "renewal", "quote", "quoted"),
    "internet": ("broadband", "fibre", "fiber", "wifi", "internet", "isp", "router"),
    "status": ("status", "blocked", "resolved", "pending", "completed", "cancelled", "canceled"),
    "subscription": ("subscription", "subscriptions", "streaming", "subscribe", "subscribed"),
    "childcare": ("babysitter", "babysitters", "babysitting", "sitter", "nanny", "childminder",
                  "daycare", "au-pair", "creche"),
    "bank": ("bank", "banks", "banking"),
    "insurance": ("insurance", "insurer", "insured"),
    "coach": ("coach", "trainer", "tutor", "instructor", "mentor", "coaching", "tutoring"),
    "hosting": ("hosted", "hosting", "host", "hosts", "deployed", "server", "servers"),
    "carrier": ("carrier", "sim", "tariff", "prepaid"),
    # Languages by name: "Tagalog as well" answers "Which languages is Solveig learning?". Not
    # names that are mostly other words ("Polish", "Turkish coffee").
    "language": ("language", "languages", "fluent", "fluency", "bilingual", "speak", "speaks",
                 "speaking", "english", "spanish", "french", "german", "italian", "portuguese",
                 "dutch", "swedish", "norwegian", "danish", "finnish", "icelandic", "czech",
                 "russian", "ukrainian", "greek", "arabic", "hebrew", "persian", "farsi", "hindi",
                 "urdu", "bengali", "punjabi", "tamil", "mandarin", "cantonese", "japanese",
                 "korean", "vietnamese", "thai", "indonesian", "tagalog", "swahili", "yoruba",
                 "igbo", "hausa", "amharic", "zulu", "latin", "welsh", "gaelic", "catalan", "basque"),
    "instrument": ("instrument", "instruments", "guitar", "piano", "violin", "cello", "viola",
                   "ukulele", "uke", "banjo", "drums", "drum", "flute", "clarinet", "saxophone", "sax",
                   "trumpet", "trombone", "harp", "mandolin", "accordion", "harmonica", "oboe",
                   "bassoon", "synth", "bagpipes"),
    "pet": ("pet", "pets", "dog", "dogs", "cat", "cats", "puppy", "kitten", "greyhound", "beagle",
            "labrador", "terrier", "spaniel", "poodle", "collie", "dachshund", "rabbit", "bunny",
            "hamster", "parrot", "budgie", "tortoise", "gecko", "ferret"),
    "music": ("music", "band", "bands", "singer", "musician", "album", "albums", "playlist", "genre", "jazz",
              "hip-hop", "techno", "folk", "opera"),
}  # fmt: skip
#: Attributes people have several of at once: naming one helps find it ("Tagalog as well" for
#: "Which languages ..."), but a newer one never overtakes an older ("picked up a banjo" after years
#: of cello).
SEVERAL_AT_ONCE = frozenset({"language", "instrument", "pet", "music"})
_ATTRIBUTE_OF = {stem(word): name for name, words in ATTRIBUTES.items() for word in words}
#: Drug names by their class's ending (stemmed: "sertraline" is "sertralin"): a medicine is a
#: dose held until the doctor changes it, whatever its name.
_DRUG = re.compile(
    r"\w{2,}(?:pril|sartan|olol|statin|dipin|pram|oxetin|faxin|tralin|azepam|zolam|prazol|tidin|formin|"
    r"gliptin|cillin|mycin|cyclin|floxacin|thyroxin|profen|lukast|propion|azapin|triptan|semid|thiazid)"
)


def attribute_of(word_stem: str) -> str | None:
    """The attribute a stem names; a short plural ("jobs", "vets") is stemmed no further."""
    found = _ATTRIBUTE_OF.get(word_stem) or _ATTRIBUTE_OF.get(word_stem.removesuffix("s"))
    return found or ("dose" if _DRUG.fullmatch(word_stem) else None)


def held_one_at_a_time(attributes: frozenset[str] | set[str]) -> set[str]:
    """The attributes, less those people have several of at once (``SEVERAL_AT_ONCE``)."""
    return set(attributes) - SEVERAL_AT_ONCE
