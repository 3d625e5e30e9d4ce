"""Sentence templates for the generator, by style of request.

Mini-language: ``{name}`` is a slot or a macro, ``(a|b)`` picks one alternative, ``[x]`` keeps ``x``
half the time. Slots: ``{dep}``, ``{dst}`` (labelled places), ``{when}``, ``{when2}`` (labelled dates
with "on" where it fits), ``{date}`` (a bare labelled date), ``{place}`` (a place that is neither
departure nor destination: a stopover, a hotel's city), ``{time}`` (a time of day, never a date).
Contrastive pairs ("arrive X" / "leave X", "to X" / "from X") appear side by side so the model learns
roles from context, never from the city.
"""

from __future__ import annotations

MACROS: dict[str, str] = {
    "from_dep": "(from {dep}|from {dep}|from {dep}|from {dep}|out of {dep}|leaving {dep}|leaving from {dep}"
    "|departing {dep}|departing from {dep}|that (leave|leaves|depart|departs) from {dep}"
    "|originating in {dep}|starting (in|from) {dep}|flying out of {dep}|flying from {dep}"
    "|going from {dep}|that leave {dep}|which depart {dep}|coming from {dep}|outta {dep})",
    "to_dst": "(to {dst}|to {dst}|to {dst}|to {dst}|into {dst}|going to {dst}|arriving in {dst}"
    "|arriving at {dst}|that (arrive|arrives) in {dst}|heading to {dst}|headed for {dst}"
    "|bound for {dst}|flying into {dst}|landing in {dst}|that (go|goes) to {dst}|getting into {dst}"
    "|with a destination of {dst}|arriving {dst}|going into {dst}|for {dst})",
    "trip": "(a flight|a flight|flights|flights|a plane ticket|a ticket|tickets|a one way ticket"
    "|a round trip ticket|a nonstop flight|the cheapest flight|an early flight|a late flight"
    "|a bus|a bus|buses|a bus ticket|a train|a train|trains|train tickets|a train ticket|a seat"
    "|a direct flight|airfare|fares|a cheap flight|any flights|the first flight|the last flight"
    "|a coach ticket|the next bus|a one way flight|a round trip flight|a red eye)",
    "trips": "(flights|flights|buses|trains|tickets|fares|nonstop flights|direct flights"
    "|connecting flights|one way flights|round trip flights|morning flights|evening flights)",
    "vehicle": "(flight|flight|bus|train|plane|coach)",
    "ask": "(i need|i want|i would like|i'd like|we need|we'd like|please find me|find me"
    "|can you find me|could you find me|can i get|i'm looking for|i am looking for|looking for"
    "|show me|get me|book me|book|search for|please book|i need to book|i want to book"
    "|i'd like to book|can you book me|could you book|please show me|list|give me|find"
    "|i'm searching for|help me find|i need information on|what about|tell me about)",
    "want": "(i want to|i need to|i would like to|i'd like to|we want to|we need to|i have to"
    "|i plan to|i'm planning to|i am planning to|i'm hoping to|i wanna|i gotta|we would like to"
    "|my (wife|husband|boss|mom|dad|son|daughter|friend|colleague|sister|brother|family"
    "|grandmother|client) (needs|wants|has) to|we are planning to|can i|how can i|is it possible to"
    "|i'm trying to|help me|i'll need to|i must|our team needs to|they want to|she needs to"
    "|he wants to|i was hoping to|i'd love to)",
    "go": "(fly|travel|go|get|head|take a trip|fly|go|book a flight|take a bus|take the train"
    "|catch a flight|get a ticket)",
    "arrive": "(arrive in|arrive at|arrive|get to|get into|fly into|reach|be in|land in|end up in"
    "|arrive in|go to|head to|travel to|visit|fly to|return to|come back to|get back to)",
    "leave": "(leave|leave from|depart from|depart|fly out of|get out of|leave|fly from"
    "|head out of|start from|set off from|go from|travel from|take off from|get outta)",
    "hi": "(hi|hello|hey|hi there|good morning|good afternoon|ok|okay|yes|yeah|great|thanks"
    "|um|uh|so|well|alright|sure|please|hmm|excuse me)",
    "end": "(please|thanks|thank you|if possible|asap|for me|thanks a lot|please help"
    "|as soon as possible|if you can|thx|pls|please and thank you)",
    "extra": "(one way|round trip|nonstop|first class|in economy|business class"
    "|for (2|two|three|4|four) (people|adults|passengers|persons)|for one person"
    "|(on|with) (united|delta|american|southwest|jetblue|alaska airlines|air china"
    "|lufthansa|british airways|greyhound|amtrak|air canada|us air|continental|twa)"
    "|under (300|$300|500 dollars|a thousand dollars)|with breakfast|that serves dinner"
    "|on flight (123|2150|ua 456|nine eighty one)|for my family|as cheap as possible"
    "|with no stops|with a (stop|stopover|layover) in {place}|(via|through|connecting in) {place}"
    "|with one stop|in coach|for less than 200 dollars|that leaves {time}|arriving {time}"
    "|{time}|{time}|{time}|for 3 nights|with a window seat|and a rental car)",
}

# (weight, template). Weights are relative within this list.
TEMPLATES: list[tuple[float, str]] = [
    # ----- full requests: an ask, a trip, both places, often a date -----
    (8, "[{hi} ]{ask} {trip} {from_dep} {to_dst}[ {when}][ {extra}][ {end}]"),
    (4, "[{hi} ]{ask} {trip} {to_dst} {from_dep}[ {when}][ {extra}][ {end}]"),
    (4, "[{hi} ]{ask} {trip} {when} {from_dep} {to_dst}[ {extra}]"),
    (3, "[{hi} ]{ask} {trip} {from_dep} {when} {to_dst}[ {extra}]"),
    (3, "[{hi} ]{ask} {trip} {to_dst}[ {when}][ {extra}][ {end}]"),
    (2, "[{hi} ]{ask} {trip} {from_dep}[ {when}][ {extra}][ {end}]"),
    (2, "{ask} {extra} {trip} {from_dep} {to_dst}[ {when}]"),
    (2, "{ask} {trip} between {dep} and {dst}[ {when}][ {extra}]"),
    # ----- first and third person verbs -----
    (6, "[{hi} ]{want} {go} {from_dep} {to_dst}[ {when}][ {extra}][ {end}]"),
    (3, "[{hi} ]{want} {go} {to_dst} {from_dep}[ {when}][ {extra}]"),
    (4, "[{hi} ]{want} {go} to {dst}[ {when}][ {extra}][ {end}]"),
    (3, "[{hi} ]{want} {arrive} {dst}[ {when}][ {extra}][ {end}]"),
    (3, "[{hi} ]{want} {leave} {dep}[ {when}][ {extra}][ {end}]"),
    (3, "[{hi} ]{want} {leave} {dep}[ {when}] and {arrive} {dst}[ {when2}]"),
    (2, "[{hi} ]{want} {arrive} {dst}[ {when}] (from|leaving|leaving from|departing) {dep}"),
    (2, "[{hi} ]{want} be in {dst} (by|on|for) {date}[ {extra}]"),
    (2, "{when} {want} {go} {from_dep} {to_dst}[ {extra}]"),
    (2, "{when} {want} {go} to {dst}[ {extra}]"),
    (
        2,
        "my (wife|husband|boss|mom|dad|son|daughter|friend|parents|kids) (is|are) (flying|traveling"
        "|going|taking the train|taking a bus|heading) {from_dep} {to_dst}[ {when}]",
    ),
    (
        1,
        "(we're|we are|i'm|i am|she's|he's|they're) (flying|traveling|going|heading|driving) to {dst}"
        "[ {when}][ (from|out of) {dep}]",
    ),
    (
        1,
        "(i'm|i am|we're|we are) (in|at|currently in|staying in|based in) {dep} and (need|want) to"
        " (get|go|fly|travel) to {dst}[ {when}]",
    ),
    (1, "i live in {dep} and (need|want|have) to (get|go|fly) to {dst}[ {when}]"),
    (
        1,
        "(i'm|i am|we're|we'll be|i'll be|i will be) (leaving|departing|traveling|flying) from {dep}"
        "[ {when}][ {end}]",
    ),
    (
        1,
        "(i'm|i am|we're|we are|i'll be|i will be) (going|traveling|heading|flying) to {dst}"
        "[ {when}][ {end}]",
    ),
    # ----- the mission's imperatives: arrive X / leave X, contrastive -----
    (
        3,
        "(arrive|arriving|arrive in|arriving in|arrive at|get to|landing in|reaching|get into)"
        " {dst}[ {when}][ {time}]",
    ),
    (
        3,
        "(leave|leaving|depart|departing|depart from|leaving from|departing from|fly out of"
        "|flying out of|out of) {dep}[ {when}][ {time}]",
    ),
    (
        2,
        "(leave|leaving|depart|departing) {dep}[ {when}][,] (arrive|arriving|arrive in|arriving in"
        "|get to|going to) {dst}[ {when2}]",
    ),
    (
        1,
        "(arrive|arriving|arrive in|arriving in) {dst}[ {when}][,] (leave|leaving|leaving from"
        "|departing|departing from|coming from) {dep}[ {when2}]",
    ),
    # ----- terse search-box queries -----
    (5, "{dep} to {dst}[ {when}][ {extra}]"),
    (2, "{dep} (-|to|2|->|>|/|→) {dst}[ {when}]"),
    (2, "{dep} {dst}[ {when}]"),
    (2, "{trips} {dep} (to|-) {dst}[ {when}]"),
    (2, "[{extra} ]{trips} (from {dep} to {dst}|to {dst} from {dep})[ {when}]"),
    (2, "(from {dep} to {dst}|to {dst} from {dep})[ {when}]"),
    (2, "(cheap|cheapest|last minute|direct|nonstop|one way) {trips} to {dst}[ {when}]"),
    (1, "{trips} (from|out of) {dep}[ {when}]"),
    (1, "{dst} {trips}[ {when}]"),
    (1, "{when} {dep} to {dst}"),
    (1, "{dep} to {dst} {date} (to|-|through|until) {date2}"),
    (1, "(to {dst}|from {dep}) {when}"),
    (1, "(one way|round trip|return) {dep} {dst} {when}"),
    # ----- questions -----
    (
        3,
        "what {trips} (are there|go|are available|do you have|fly|run|leave) {from_dep} {to_dst}"
        "[ {when}][ {extra}]",
    ),
    (2, "(are there|is there|do you have|do they have) any {trips} {from_dep} {to_dst}[ {when}]"),
    (2, "(is there|do you have|can i get) {trip} {to_dst}[ {when}][ {from_dep}]"),
    (
        2,
        "how much (is|does it cost|is it|are tickets) (to fly|to go|to get|for a ticket) {from_dep}"
        " {to_dst}[ {when}]",
    ),
    (
        2,
        "what is the (cheapest|earliest|latest|last|first|shortest|fastest) {vehicle}"
        " (from {dep} to {dst}|to {dst} from {dep}|to {dst}|from {dep})[ {when}]",
    ),
    (1, "which airlines fly (from {dep} to {dst}|to {dst}|between {dep} and {dst})[ {when}]"),
    (
        1,
        "when does the (next|first|last) {vehicle} (to {dst}|from {dep}|from {dep} to {dst}) leave"
        "[ {when}]",
    ),
    (1, "what time does the {vehicle} from {dep} (arrive in|get to|get into|reach) {dst}[ {when}]"),
    (1, "can i (fly|go|get|travel) (from {dep} |)to {dst} {when}"),
    (
        1,
        "how long is the (flight|trip|bus ride|train ride) (from {dep} to {dst}|to {dst} from {dep})",
    ),
    (1, "what {trips} (leave|depart from|go out of) {dep} {when}[ {time}]"),
    (1, "what {trips} (arrive in|get into|land in|come into) {dst} {when}[ {time}]"),
    (1, "(does|do) (any|the) {trips} (from {dep} |)(stop in|go through) {place}"),
    # ----- dialogue turns (bus, train and flight booking) -----
    (
        3,
        "(i'm|i am) looking for a (train|bus|flight) (that (departs|leaves) from|leaving|from) {dep}"
        " (and (goes|going) to|going to|to|and arrives in|arriving in) {dst}[ {when}]",
    ),
    (
        2,
        "(i'm|i am) looking for a (train|bus|flight) (going to|to|that goes to|arriving in) {dst}"
        "[ {when}][ {time}]",
    ),
    (
        2,
        "(i'll|i will|i'd|i would|we'll|we will) (be leaving|be departing|be traveling|like to leave"
        "|like to depart|be coming) from {dep}[ {when}][ {end}]",
    ),
    (
        2,
        "(i want|i need|i would like|i'd like|we'd like) to (leave|depart|travel|go|fly|head out)"
        " {when}[ {time}][ {end}]",
    ),
    (
        2,
        "the (train|bus|flight) should (leave|depart) {when}[ {time}][ and (go|arrive) (to|in) {dst}]",
    ),
    (
        1,
        "the (train|bus|flight) should (depart from|leave from|leave) {dep}[ and (go|arrive) (to|in)"
        " {dst}]",
    ),
    (1, "i need it to (go to|arrive in|arrive at|get to) {dst}[ {when}][ {time}]"),
    (2, "(my|the) destination (is|will be) {dst}[ {end}]"),
    (1, "(i'm|i am) (departing|leaving) (from|) {dep}[ {when}]"),
    (1, "it should (depart|leave) from {dep}[ {when}]"),
    (1, "([{hi}, ]|)(from|departing from|leaving from) {dep}[ {end}]"),
    (1, "([{hi}, ]|)(to|going to|heading to|i'm going to) {dst}[ {end}]"),
    (
        2,
        "([{hi}, ]|)(leaving|departing|traveling|on|for|i want to go|i'd like to go|going) {date}"
        "[ {end}]",
    ),
    (
        2,
        "(how about|what about|can you check|could you look for|try|make it|change it to"
        "|i'd prefer|actually) {date}[ instead][ {end}]",
    ),
    (
        1,
        "(can you|could you|please) (find|search for|look for|get me) (a|one) (bus|train|flight)"
        " to {dst} for {date}",
    ),
    (
        1,
        "i need (a|one) (bus|train|flight) to {dst} for (two|2|three|four|one) (people|adults"
        "|passengers) on {date}",
    ),
    (1, "(i'd|i would) like to travel (on|) {date}[ from {dep}][ {end}]"),
    (1, "find me a (bus|train|flight) from {dep} to {dst} (for|on) {date}"),
    (1, "{date} (works|is good|is fine|would be great|please)[ {end}]"),
    (
        1,
        "(i'm|i am) (in|at) {dep} (right now|at the moment|currently|now)[ and want to (go|get) to"
        " {dst}]",
    ),
    # ----- return trips -----
    (
        3,
        "[{ask} ](a |)(round trip|return ticket|return flight)[ {trip}] {from_dep} {to_dst} (leaving|departing"
        "|on|going) {date} (and |)(returning|coming back|back|return|returning on) {date2}",
    ),
    (2, "{want} {go} to {dst} {when} and (come back|return|fly back|get back) {when2}"),
    (
        2,
        "(returning|coming back|back|return|flying back|i'll return|i want to return|i'd like to"
        " return|i need to come back) {when2}[ {end}]",
    ),
    (1, "my return (flight|date|trip) (is|will be) {date2}"),
    (1, "{dep} to {dst} (leaving|out) {date}[,] (back|returning|return) {date2}"),
    # ----- patterns the first dev run missed -----
    (
        2,
        "[{hi} ](book|get me|find|search|find me|check|pls book|please book|look up) {dep} (to|-) {dst}"
        "[ {when}][ {extra}]",
    ),
    (2, "(flights|trains|buses|tickets|fares|cheap flights) {dep} {dst}[ {when}]"),
    (1, "{dep} {dst} (flights|trains|one way|round trip|tickets)[ {when}]"),
    (
        2,
        "(how do i|how can i|can you|could you|please|can u|pls) get (me |us |)to {dst}[ {when}][ from {dep}]",
    ),
    (1, "[how about |what about |is there |]anything (to|going to|into) {dst}[ {when}][ {extra}]"),
    (1, "anything (from|out of|leaving) {dep}[ to {dst}][ {when}]"),
    (
        2,
        "(i|we|my wife|my boss|my son) (have|has) a (meeting|conference|wedding|job interview|game"
        "|concert|family reunion|doctor's appointment) in {dst}[ (on|for|) {date}]",
    ),
    (
        1,
        "(i'm|we're|i am|we are) (attending|going to) a (wedding|conference|meeting|festival) in {dst}"
        "[ {when}]",
    ),
    (
        2,
        "(i want|i'd like|i'll take|book me on|can i get|is there a seat on|put me on) {timed}"
        " (from {dep}|to {dst}|from {dep} to {dst})[ {when}]",
    ),
    (
        2,
        "(i'll take|i want|book|give me|i'd like) the {date} (flight|bus|train|one)[ (from {dep}|to {dst}"
        "|from {dep} to {dst})]",
    ),
    (1, "can i get a seat on the {date} (flight|bus|train) (to {dst}|from {dep})"),
    (1, "{date} (works|is fine|is perfect)[,] (from {dep} to {dst}|to {dst}|from {dep})"),
    (
        1,
        "(my|the) (connecting flight|connection|layover|stopover) is in {place}[ but] (i'm|i am)"
        " (going|flying) (from {dep} to {dst}|to {dst})",
    ),
    (1, "[{ask} ]{trip} {from_dep} {to_dst} (sometime|anytime|some time|whenever) [{when}]"),
    (1, "(i'm|i am) (flying|going|traveling) to {dst} and back[,] {date} to {date2}"),
    (1, "{want} go to {dst} (sometime|maybe|probably) {when}"),
    # ----- no departure, destination or date at all: negatives -----
    (14, "{negative}"),
]

NEGATIVES: list[str] = [
    "what is the cheapest fare",
    "show me the meals on flight (123|2150|ua 456)",
    "what does fare code (qx|y|f|h) mean",
    "(i'd|i would) like to book a hotel[ in {place}]",
    "thank you",
    "thanks that's all",
    "that's all for now",
    "what time is it",
    "how much does it cost",
    "do you have anything earlier",
    "do you have anything later",
    "what airlines are there",
    "list all the flights that serve dinner",
    "is there a flight {time}",
    "i need (3|three|two|2) tickets",
    "the (5|five) o'clock one (please|)",
    "what is the baggage allowance",
    "can i bring my dog",
    "(what|which) airlines serve {place}",
    "what is the weather (like |)in {place}",
    "(show me|what is|list) (the |)ground transportation in {place}",
    "hotels in {place}",
    "(is|are) there (any |)(restaurants|hotels|car rentals) (in|near) {place}",
    "i want to cancel my (reservation|booking|flight)",
    "change my seat (please|)",
    "what is the status of flight (1234|ua 88|dl 400)",
    "how many stops does it make",
    "what type of aircraft is used",
    "what does (ap57|d9s|m80) mean",
    "what is a (b757|737|coach fare)",
    "i need a (rental car|taxi|hotel room)",
    "yes that works",
    "no thanks",
    "that one is fine",
    "can you repeat that",
    "book it",
    "yes please book it",
    "sounds good",
    "great thank you",
    "(what|how) about something cheaper",
    "i'd like a window seat",
    "is that a direct flight",
    "how long is the layover",
    "what is the arrival time",
    "what time does it depart",
    "(what|when) is the departure time",
    "i want to (fly|go) {time}",
    "leaving {time} please",
    "(does|do) the flights serve (breakfast|meals|snacks)",
    "show me all the airlines",
    "what is the fare for a child",
    "economy please",
    "business class (please|)",
    "(one|1|two|2) adult(s|) and (one|1) child",
    "i need to book for (2|two|three|3) people",
    "how much is a first class ticket",
    "i need the (fastest|cheapest) option",
    "what is the (distance|flying time) from the airport to downtown",
    "explain restriction ap 80",
    "(list|show me) all flights {time}",
    "(show|give) me the (earliest|latest) one",
    "which one arrives (first|earliest)",
    "what (are|is) the (prices|price) for that",
    "is there wifi on the (bus|train|plane)",
    "can i pay by credit card",
    "i would like to (make|change) a reservation",
    "please (help|assist) me",
    "i am flying with (delta|united|american airlines) (next time|again)",
    "what are the coach fares",
    "i need a flight {time}",
    "what time do (i|we) arrive",
    "(we|i) have (2|two|3|three) bags",
    "hey",
    "hello",
    "hi there",
    "good morning",
    "what can you do",
    "i'm not sure yet",
    "let me think about it",
    "maybe later",
    "how many seats are left",
    "reserve (two|2|three) seats",
    "the (morning|evening) one please",
    "how do i get to the airport from (the hotel|downtown|here)",
    "where is (gate|terminal) (4|b)",
    "is the (bus|train) on time",
    "book me a (table|car|room) for (two|four)",
    "i'd like to (go|visit|see) (the museum|the beach|the mountains)",
    "(show me|what are) the fares",
    "(what|which) flights have a layover in {place}",
    "(is|are) there (a|any) (stop|stops|connection|connections) in {place}",
    "my (connecting flight|connection|layover) is in {place}",
    "i'm staying at a hotel in {place}",
    "(i want|i'd like) {timed}",
    "is {timed} on time",
    "what time does {timed} leave",
    "i work in {place}",
    "(i'm|we're) (visiting|staying with) (family|friends|my aunt)",
    "anything (cheaper|earlier|later|else)",
    "anything under 300 dollars",
]
