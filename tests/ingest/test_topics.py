"""A change said in other words than the original replaces it by shared topic; chat that merely
shares a topic, adds, restates, denies or gives an opinion replaces nothing."""

from __future__ import annotations

import pytest

from eidetica.ingest.topics import (
    best_rival,
    change_cue,
    corrects,
    holds_a_value,
    replacing_cue,
    said_wrong,
    states,
    topic,
)

SPEAKER = ("Ana",)

#: (what was said, what was said later, other things the speaker said meanwhile): the later
#: statement replaces the first and none of the others.
CHANGES = [
    ("Ana has been living in Valencia for six years.", "Since March, home has been a flat in Bilbao.",
     ["Ana loves paella.", "Ana's brother is a nurse."]),
    ("Ana prefers aisle seats on flights.", "Window seats for Ana now.",
     ["Ana flies to Rome in May.", "Ana's sister has a cat."]),
    ("Ana goes to choir practice on Wednesday nights.", "Choir's on Thursdays now.",
     ["Ana sings alto.", "Ana walks the dog on Sundays."]),
    ("Ana keeps the spare keys in the blue bowl by the door.",
     "Ana started keeping the spare keys in the kitchen drawer instead.",
     ["Ana painted the door green.", "Ana's car is a Fiat."]),
    ("Ana's rent is 950 euros a month.", "The rent went up to 1150 euros.",
     ["Ana's flat has two bedrooms.", "Ana earns 2400 euros a month."]),
    ("Ana weighs 94 kg.", "Scale said 87 kg this morning.",
     ["Ana's bike has 21 gears.", "Ana runs 5 km on Mondays."]),
    ("Ana wakes up at 6:30 on weekdays.", "Ana pushed her alarm to 7:15.",
     ["Ana's train leaves at 8:10.", "Ana works from home on Fridays."]),
    ("The quarterly sales target is 1.2 million.", "Management cut the quarterly target to 1.3 million.",
     ["The team has 12 people.", "Ana's bonus is 3 percent."]),
    # The change says which attribute it is about: a first week somewhere is a job.
    ("Ana is a data analyst at Ecobank in Accra.", "First week at MTN Ghana done.",
     ["Ana's sister is a nurse.", "Ana flies to Rome in May."]),
    ("Ana has been a network engineer at Turkcell, the night shifts are killing her.",
     "Since Ana started at Getir her evenings are free.", ["Ana's wife sleeps like a bear."]),
    # What someone works as is work: a title said later replaces the earlier one.
    ("Being a paralegal at Crane & Lowe is exhausting for Ana.", "Ana is a solicitor now.",
     ["Ana's sister is a nurse in Leeds.", "Ana flies to Rome in May."]),
    ("Ana reports to Graham Whitfield.", "Since the reorg Ana's line manager is Anjali Rao.",
     ["Graham books meetings at 7:45.", "Ana's team has 9 people."]),
    # A count one statement names by its word ("rapid") and the other with a number.
    ("Ana's rapid rating on chess.com is 1320.", "1415 rapid after a weekend of puzzles!",
     ["Ana's blitz games take 5 minutes.", "Ana plays chess on Sundays."]),
    # A reading of a measure holds until the next one, though told in the past.
    ("Ana weighed 84 kg this morning.", "Weighed in at 77 kg today.", ["Ana's bike has 21 gears."]),
    # A terse "now" clause, however long the sentence around it.
    ("Ana's phone is a Pixel 4a.",
     "Now on a Fairphone 5, Ana can swap the battery with a screwdriver, which is unreasonably satisfying.",
     ["Ana's laptop is a ThinkPad.", "Ana's sister has a cat."]),
    # A medicine is a dose held, whatever its name.
    ("Ana takes lisinopril every morning.", "The doctor moved Ana to losartan.", ["Ana takes the bus at 8."]),
    # How an agent's records say a change.
    ("Brightline Foods account manager: Oksana Kovalenko.", "Brightline Foods reassigned to Felipe Duarte.",
     ["Renewal is due in November.", "Oksana works from the Kyiv office."]),
    ("Client Harlow and Sons: consulting rate 95 GBP per hour.",
     "Harlow and Sons renewal signed; hourly rate is 110 GBP from April.",
     ["Client Fenwick: consulting rate 80 GBP per hour.", "Harlow and Sons pay net 30."]),
    # Where someone settles, or says they are now, is their home.
    ("Ana's flat in Lisbon is near Arroios.",
     "Settling in to Amsterdam, the flat is tiny but near Vondelpark.",
     ["Ana surfs at Carcavelos.", "Ana's brother lives in Porto."]),
    ("Ana lives in Osaka, near Tennoji.", "Settled into Kanazawa now, and the seafood is incredible.",
     ["Ana's sister has a cat.", "Ana flies to Rome in May."]),
    ("Ana lives in Porto.", "New job meant a move, Ana is in Lisbon now, renting near Arroios.",
     ["Ana's bike has 21 gears.", "Ana flies to Rome in May."]),
    # Leaving for another one is a change, not one more ("another" adds elsewhere); whom one is
    # under is whom one reports to.
    ("Ana reports to Simone now.",
     "My manager left for another company and Tobias is my boss from this week.",
     ["Ana's team has 9 people.", "Ana flies to Rome in May."]),
    ("Tobias is Ana's boss.",
     "Internal transfer went through, Ana is in the analytics group under Keiko Sato.",
     ["Ana's sister is a nurse.", "Ana flies to Rome in May."]),
    # Whoever minds the children is one at a time, whatever word names them.
    ("Ana's babysitter Claudia comes Tuesdays after school.", "Beatriz is our new sitter for the afternoons.",
     ["Ana's sister has a cat.", "Ana flies to Rome in May."]),
    # No cue, but another value of something held one at a time, named in the present.
    ("Ana's flat in Yaba floods every time it rains.", "The Lekki flat has a working generator finally.",
     ["Ana's office is in Ikeja.", "Ana's brother lives in Abuja."]),
]  # fmt: skip

#: Later statements that share a topic with the first and replace nothing.
NOT_CHANGES = [
    ("Ana has a dog called Rex.", "Ana also adopted a cat last week."),  # adds
    ("Jon is passionate about dancing.", "Dancing makes Jon so happy now."),  # a feeling
    ("Jon is working on his dance studio.", "Jon won't quit, no matter what."),  # denied
    ("Tim is into fantasy novels.", "Tim is currently reading a fantasy novel."),  # tells more
    ("Don't let anything stop Jon.", "Jon stopped by the studio instead."),  # advice
    ("The Alto desk costs 610 euros.", "The Alto lamp costs 45 euros."),  # another thing
    (
        "Nate is participating in the video game tournament.",
        "Lately, Nate has been doing great and he won a really big video game tournament last week.",
    ),  # a story that happens to be now
    ("Ana drives a Mazda CX-5.", "Ana's partner got a Kia Niro, so they have two cars now."),  # another's
    (
        "Ana grew up speaking Twi at school.",
        "Ana can argue about football in Portuguese after two years of classes.",
    ),
    ("Ana is working on a song called Blue.", "Ana is working on a thriller set in Ohio."),  # doing, no job
    ("Ana lives in Lisbon.", "Ana visited Porto in June and loved it."),  # a story of the past
    ("Ana lives in Lisbon.", "Ana is in Paris for a conference this week."),  # a trip, not a home
    ("Ana has a dog called Rex.", "Ana adopted another dog now, a beagle."),  # adds
    ("Tim is learning how to play the violin now.", "Tim is learning German now - tough but fun."),  # adds
]


@pytest.mark.parametrize(("old", "new", "others"), CHANGES)
def test_a_change_in_other_words_replaces_the_statement_it_shares_a_topic_with(
    old: str, new: str, others: list[str]
) -> None:
    cue = replacing_cue(new)
    assert cue is not None, new
    olds = [(text, topic(text, SPEAKER)) for text in [*others, old]]
    assert best_rival(topic(new, SPEAKER), cue, olds) == old


@pytest.mark.parametrize(("old", "new"), NOT_CHANGES)
def test_a_statement_sharing_a_topic_without_a_change_replaces_nothing(old: str, new: str) -> None:
    cue = replacing_cue(new)
    if cue is None or not states(old):
        return  # no cue, or nothing to replace: the rule never looks further
    names = ("Jon", "Nate", "Tim", "Ana")
    assert best_rival(topic(new, names), cue, [(old, topic(old, names))]) is None


def test_nothing_is_replaced_when_two_older_statements_share_the_topic_equally() -> None:
    new = topic("Switched to oat milk.")
    olds = [(t, topic(t)) for t in ("Ana buys milk at Lidl.", "Ana puts milk in her tea.")]
    assert best_rival(new, "strong", olds) is None


def test_of_two_sharing_as_much_the_one_naming_the_same_names_is_replaced() -> None:
    badge = "Employee Rohan Iyer (Finance Ops) badge level: L2."
    olds = [(t, topic(t, ("hr-bot",))) for t in (badge, "Access: floors 1-3, no server room.")]
    new = topic(
        "Security review complete for Rohan Iyer; badge upgraded to L3 with server room access.", ("hr-bot",)
    )
    assert best_rival(new, "strong", olds) == badge


def test_teaching_somewhere_is_work_there() -> None:
    nurse = "Yusuf works night shifts as an ICU nurse at Acibadem."
    new = topic("Now that Yusuf is teaching at Hacettepe University he gets summers off.", ("Yusuf",))
    assert best_rival(new, "strong", [(nurse, topic(nurse, ("Yusuf",)))]) == nurse


def test_signing_for_a_team_replaces_playing_for_another() -> None:
    rovers = "Seamus plays left back for Dockside Rovers in the Sunday league."
    assert holds_a_value(rovers)  # a member until they leave
    new = topic("Seamus signed for Harbour United for the spring season.", ("Seamus",))
    assert best_rival(new, "strong", [(rovers, topic(rovers, ("Seamus",)))]) == rovers


def test_a_measure_of_one_thing_is_no_rival_to_the_same_measure_of_two() -> None:
    bike, me = "Ana's bike weighs 9 kg.", "Ana weighs 94 kg."
    olds = [(t, topic(t, SPEAKER)) for t in (bike, me)]
    assert best_rival(topic("Scale said 87 kg this morning.", SPEAKER), "measure", olds) is None


def test_cues_read_what_the_statement_says() -> None:
    assert change_cue("These days I'm in bed by half nine.") == "strong"
    assert change_cue("Window seats for me now.") == "strong"  # terse: says only what holds now
    assert change_cue("We are cooking a lot more dinners at home with the kids now.") == "weak"
    assert change_cue("It pushed Jon to take the plunge.") is None  # an aim, not a new value
    assert change_cue("It's been ages since we last chatted.") is None
    assert change_cue("But instead of giving up, Tim turned it into a lesson.") is None
    assert change_cue("They moved me to the late shift.") == "strong"
    # Cues of common words pass the fast first look too.
    assert change_cue("Lucas and I got married last weekend.") == "strong"
    assert change_cue("We got engaged in June.") == "strong"
    assert change_cue("I never gave up on it.") is None
    assert change_cue("We also got a second car.") is None
    assert change_cue("I'm not vegetarian anymore.") == "strong"
    assert change_cue("Let me know if you need any more tips.") is None
    assert change_cue("Finally got the keys to our new apartment in Wroclaw!") == "strong"
    assert change_cue("Since the reorg my line manager is Anjali Rao.") == "strong"
    assert change_cue("I started on a book since my movie did well!") is None  # "since": because
    assert change_cue("The GP started me on metoprolol, 25 mg in the mornings.") == "strong"
    assert change_cue("Got an iPhone 15 for my birthday!") == "strong"
    assert change_cue("Since I started at Getir in the autumn my evenings are free.") == "strong"
    assert change_cue("Also my doctor changed my tablets, so I'm on losartan now.") == "strong"  # opens
    assert change_cue("We also switched banks.") is None  # adds
    assert replacing_cue("Our mortgage rate is 2.1 percent.") == "measure"
    # How records say it.
    assert change_cue("Kelderhof Farms opportunity advanced to Proposal; quote Q-5512 sent.") == "strong"
    assert change_cue("#4821 escalated to tier 2, Svetlana Petrova owns it.") == "strong"
    assert (
        change_cue("Returned the laptop after a hinge failure; replacement issued: ThinkPad X1.") == "strong"
    )
    assert change_cue("I need a replacement for my charger.") is None


def test_an_event_holds_a_value_when_it_sets_one_not_when_it_tells_a_result() -> None:
    assert holds_a_value("Ana switched Biscuit to Orijen.")  # said a change
    assert holds_a_value("The spare keys are kept in the blue bowl.")  # in the present
    assert holds_a_value("Down to 89 kg!")  # a measure, no past verb
    assert holds_a_value("Signed the offer: base salary 18 lakh a year.")  # an amount held
    assert holds_a_value("Ana's rapid rating on chess.com is 1450.")  # a dot inside a word ends nothing
    assert holds_a_value("Ticket #4821 (VPN drops) assigned to Hollis Grant, tier 1.")  # who holds it
    # A race run and its time: a later move "from Lisbon" does not end it.
    assert not holds_a_value("Maya ran the Lisbon half marathon on 14 April 2024 and finished in 1:52:40!")


@pytest.mark.parametrize(
    ("text", "correcting"),
    [
        ("Oops, I misspoke: the class is on Monday evenings.", True),
        ("Sorry, I meant Tuesday, not Thursday.", True),
        ("Scratch that, we're flying to Rome.", True),
        ("My bad, it's the 14th.", True),
        ("Correction: the launch is in May.", True),
        ("I meant to call you yesterday.", False),
        ("My bad knee is acting up again.", False),
        ("I fixed a typo in my thesis.", False),
        ("My mistake was not booking earlier, we also missed the ferry.", False),
    ],
)
def test_a_correction_is_told_from_talk_of_mistakes(text: str, correcting: bool) -> None:
    assert corrects(text) is correcting
    if correcting:
        assert change_cue(text) == "strong"


def test_a_value_raised_to_an_amount_in_a_currency_is_a_change_and_another_rise_no_addition() -> None:
    assert change_cue("Jo has raised Jo's hourly rate to £53 for new clients.") == "strong"
    assert holds_a_value("Jo has raised Jo's hourly rate to £53 for new clients.")
    assert replacing_cue("Another rate rise, so the mortgage is now £870 a month.") is not None
    assert change_cue("We adopted another cat, so now we have two.") is None  # a second one, added


def test_a_habit_holds_a_value_until_it_changes() -> None:
    assert holds_a_value("Corrado runs along the canal five mornings a week.")
    assert holds_a_value("Mia swims twice a week at the lido.")
    assert holds_a_value("Jo walks the dog every evening.")
    assert not holds_a_value("Jo walked the dog in the rain and got soaked.")


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("wait, no, it's Leeds not Leicester — I always mix those two up.", "leicester"),
        ("Oh and sorry, autocorrect got me: the school is Hillside High, not Hillcrest.", "hillcrest"),
        ("Oops, it’s room 214, not 241.", "241"),
        ("I support Arsenal, not Spurs.", None),  # a preference: nothing was said wrong
        ("No, it's not Tuesday yet.", None),  # no value set against another
    ],
)
def test_a_correction_may_name_the_value_it_takes_back(text: str, wrong: str | None) -> None:
    assert said_wrong(text) == wrong
    assert corrects(text) is (wrong is not None)


def test_a_correction_in_other_words_and_a_mix_up_take_back_what_was_said() -> None:
    assert corrects("Correction to the other day: it's Luton I'm flying from.")
    assert corrects("no sorry, it's mustard she's allergic to, I got her mixed up with her cousin.")
    assert corrects("Sorry, no, it's Riga.")
    assert not corrects("Sorry, no idea.")
    assert not corrects("I got the job!")
