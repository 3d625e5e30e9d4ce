"""Dialogues for the generator: what a booking agent or bot asks, and how users answer.

A bare answer takes its role from the question before it ("Where will you be flying from?" /
"[dep Boston]."), a correction from the confirmation it corrects ("Leaving from Boston, right?"
/ "No, [dep Providence]"), and a cue in the answer itself wins over both ("Where to?" / "from
[dep Leeds] to [dst York]"). The places the agent names are context, never spans, and often not
the ones the user picks.

Same mini-language as ``templates.py``. ``{ans}`` is the place the question asks for: the
generator makes it ``{dep}`` or ``{dst}`` by the question's slot. ``{place}`` and ``{nodate}`` in
an agent's turn are plain words; so is everything in a context turn.
"""

from __future__ import annotations

# ----- what the agent asks, by the slot it asks for -----
ASK: dict[str, list[str]] = {
    "dep": [
        "(Where|Where exactly) will you be (flying|travelling|traveling|leaving|departing) from?",
        "(And |)where are you (departing|leaving|flying|travelling|starting) from?",
        "What (city|airport|station) (will you be|are you) (departing|leaving|flying) from?",
        "Which (station|airport|city) would you like to (depart|leave|go) from?",
        "(OK|Sure|Great|Got it)[(,|.)] (and |)where (are you|will you be) (coming|leaving) from?",
        "What is your (departure|starting) (city|point|station|airport)?",
        "(And |)your (departure|origin)?",
        "From where?",
        "(where r u|where are u) (flying|leaving|coming) (out of|from)?",
        "Where do you want to (leave|depart|fly|travel) from?",
        "Where will the (train|bus|flight|trip) (be leaving|leave|depart) from?",
        "Where are you (now|based|located)?",
        "Which city do you start in?",
        "I can help with that. (Where|What city) (are you|will you be) (travelling|flying) from?",
        "Please tell me your (boarding|departure) (station|city|airport).",
        "(Which|What) station will you (board at|be boarding at|leave from|start from)?",
        "Where would you like to (board|start your trip|begin your journey|start)?",
        "(Where are you boarding|Boarding city|Boarding station|Departure station|Origin)?",
        "(From where and when|From where and on what day)?",
        "Where will you be leaving from and on what day?",
        "Where is your (trip|journey) starting?",
        "Which city is your (trip|journey) starting in?",
        "{place} has no direct (flights|trains) to {place} that day. Where else could you "
        "(fly|leave) from?",
        "There are no (trains|buses) from {place} on {nodate}. Could you leave from (somewhere|"
        "anywhere) else?",
        "(hey! |ok |)where r u (now|based)?",
        # terse agent and form phrasings: the slot's name alone, without "from"
        "(Origin|Departure|Boarding|Starting) (city|station|airport|point)[(, please| please)]?",
        "(hey! |ok |)what city are (you|u) in (right now|rn|at the moment)?",
        "Where (are you|r u|will you be) (travelling|flying|heading) out of?",
        "(And |)(leaving|departing|starting) from?",
        "Where does (the|your) (journey|trip|ride) (start|begin)?",
        "Where will you (board|get on)?",
        "(OK|Sure|Thanks)[(,|.)] (and |)your (origin|starting point|pickup point)?",
    ],
    "dst": [
        "(Where|Where exactly) would you like to (go|fly|travel|head)?",
        "(And |)what is your destination[ (city|station|airport)]?",
        "(And |)where are you (heading|going|travelling|traveling|flying) to?",
        "(And |)where (to|will you be going)?",
        "Which (city|station|airport) (are you|will you be) (flying|travelling|going) (into|to)?",
        "(OK|Sure|Great|Got it)[(,|.)] (and |)where (would you like to go|are you headed)?",
        "What's your destination?",
        "(And |)the destination?",
        "(where r u|where are u|where do u wanna) (going|headed|heading|go)?",
        "Where does the (train|bus|trip) need to (go|arrive)?",
        "Where would you like to (arrive|end up)?",
        "Where (can|shall) I (book|look for) (you|flights|trains) to?",
        "Any particular place in mind?",
        "Where are you (going|headed|heading|off to|flying|travelling)[ on {nodate}]?",
        "(going|headed|heading) to?",
        "(And |)your destination[ today]?",
        "What's the destination[ station]?",
        "Where do you (want|need) to (get to|end up|travel to)?",
        "Which city is your destination?",
        "Where (to|do you want to go) this time?",
        "(Nice|Fun|Exciting|Ooh)[(!|.)] (where to|where are you going|where are you headed)?",
        "(Most airlines allow it|Sure|No problem)[.] Where are you (flying|headed)?",
        # terse agent and form phrasings: the slot's name alone, without "to"
        "(Alighting|Arrival|Destination|Final) (city|station|stop|airport)[(, please| please)]?",
        "(And |)the (arrival|alighting|destination) (station|city|airport|stop)?",
        "(And |)where does it (end|finish|stop)?",
        "Where does (the|your) (journey|trip|ride) (end|finish)?",
        "(And |)(your |the |)final destination[ today]?",
        "Where (are you|will you be) (getting off|alighting)?",
        "(And |)(arriving|going) where?",
        "(To where|Going to|Arriving at|Arriving in)?",
    ],
    "date": [
        "What (day|date) would you like to (travel|leave|fly|depart|go)?",
        "When would you like to (leave|travel|fly|go|return|come back)?",
        "(And |)when (are you|will you be) (leaving|travelling|returning|coming back)?",
        "What (day|date) (is|will) (the trip|your departure|your return)[ be]?",
        "(OK|Sure|Great|Got it)[(,|.)] (what|which) (day|date)?",
        "Which (day|date) works (best |)for you?",
        "What dates are you looking at?",
        "(And |)the (date|day)?",
        "When do you (need|want) to (travel|be there|leave)?",
        "I found (3|several|two|a few) (trains|buses|flights) to {place}. What day?",
        "Do you have a (date|day) in mind?",
    ],
}

# ----- what the agent offers or confirms: the user may correct it (the role stays the slot's) --
CONFIRM: dict[str, list[str]] = {
    "dep": [
        "(Leaving|Departing|Flying) from {place}, (right|correct|is that right)?",
        "(So |)you're (starting|leaving|departing) (in|from) {place}?",
        "Would you like to (fly|leave|depart) (from|out of) {place} instead?",
        "(Flights|Trains|Buses) (out of|from) {place} are (limited|sold out|expensive) that day. "
        "Would you like to leave from {place} instead?",
        "And you're (starting|leaving) (in|from) {place}?",
        "Booking for (Mr.|Ms.|Mrs.) (Chen|Smith|Garcia|Okafor|Patel). (Leaving|Departing) from "
        "{place}, right?",
        "(Are you|Will you be) (flying|leaving|travelling) (out of|from) {place} (as usual|again)?",
        "(Flying|Leaving) (out of|from) {place} again?",
        "(Sure|OK|Got it)[,] (leaving|departing) {place} then?",
    ],
    "dst": [
        "(So that's|That's|So) to {place}, (right|correct|is that right)?",
        "(Going|Heading|Flying) to {place}?",
        "Would you like to (fly|go) (into|to) {place} instead?",
        "I have (flights|trains|buses) to {place} (and|or) {place}. Which (one|works)?",
        "(So |)the destination is {place}?",
        "(Got it|OK)[(,|.)] {place} to {place} on {nodate}. (Correct|Right)?",
        "I can do {place}, {place} or {place} for under (400|$300|500 dollars). Any of those?",
        "{place} is ($80|$120|a lot|way) cheaper in {nodate}!",
        "Flights from {place} to {place} start at ($540|$99|$230) (in|on) {nodate}.",
        "How about {place} instead? It's (cheaper|closer|direct).",
        "(The|Our) {place} (deal|package) is (sold out|still available)[. Want to see others?]",
    ],
}

# ----- how users answer: {ans} is the place the question asks for -----
ANSWERS: list[str] = [
    "{ans}",
    "{ans}",
    "{ans}.",
    "{ans} (please|pls|thanks|thank you)",
    "(it's|its|it is|it'll be|that's) {ans}",
    "that (would|will|'d) be {ans}",
    "(make it|let's say|let's do|i'll go with|i'd like) {ans}",
    "(how about|what about) {ans}?",
    "{ans}[,] (on|for) {date}",
    "{ans} {date}",
    "{ans}, (and |)(returning|back|coming back) {date}",
    "(um|uh|hmm|ok|okay|well)[,] {ans}[ i (think|guess)]",
    "{ans}!!",
    "{ans} (if possible|ideally|preferably)",
    "(definitely|probably|maybe) {ans}",
    "{ans} (ofc|lol|obv|obviously|for sure)",
    "{ans} it is",
    "{ans} (🌞|🎸|😍|🙏|✈️)",
    "{ans}, (at|from) the (main|central|north) (terminal|station|stop)[ if possible]",
    "{ans}[,] (thanks|please|i think)[.] (and|also) (2|3|two) (people|tickets)",
]
CORRECTIONS: list[str] = [
    "(no|nope|actually no|no no)[,] {ans}[ (please|is fine|this time|instead)]",
    "(sorry|oops|my bad)[,] (i meant|it's|it should be) {ans}",
    "(no wait|wait no|hmm no)[,] {ans}",
    "(yes|yep|yeah|correct|that's right)[,] {ans}[ (please|thanks)]",
    "not {place}, (i said|i meant|it's) {ans}",
    "{ans} (actually|instead|is better)",
    "(not this time|no, not this time|nope)[(.|,)] (i'll be in|i'm in|we'll be in|make it) {ans}",
    "(no|nope)[,] {ans} is (easier|better|closer) for (me|us)",
]
DATE_ANSWERS: list[str] = [
    "{date}",
    "{date}.",
    "(on|for) {date}",
    "{date} (please|pls|if possible|ideally)",
    "(leaving|out|going) {date}[,] (back|returning|coming back) {date2}",
    "{date}, (returning|back) {date2}",
    "(hmm|um|ok)[,] {date}[ i think]",
    "(the earliest|anything) (on|for) {date}",
    "(i'd like to|i want to|we'd like to) (leave|go|travel) {date}",
    "{range}",
]
# Answers that carry no slot; the agent's last turn may name places and days all the same.
NO_SLOT: list[str] = [
    "(yes|yep|yeah|yes please|sure|ok|okay|correct|that's right)",
    "(that works|sounds good|perfect|great|lovely)[, (book it|thanks|thank you)]",
    "(1|2|3|4|one|two|three|four) (people|adults|passengers|tickets|seats)",
    "(economy|business|first class)[ (is fine|please)]",
    "the (cheaper|earlier|later|faster|direct) one[ please]",
    "(no thanks|no thank you|nope)[,] (that's all|that's everything|i'm good)",
    "what time does it (arrive|leave|get in)?",
    "(how much is it|how long is the journey|is it direct)?",
    "(around|after|before|at) (9|10|noon|5pm|17:30|8:15)[ (please|if possible)]",
    "(can you|could you) (book|reserve) it[ (please|for me)]",
    "i (don't|dont) (mind|care)[, (whatever|whichever) is cheapest]",
    "not sure yet",
]

# ----- other domains: the agent's turn is about a hotel, a table or a taxi -----
DOMAIN_AGENT: list[str] = [
    "The (Acorn Guest House|Gonville Hotel|Abbey Lodge|Hobsons House|Lensfield Hotel) is a "
    "(4 star|moderately priced|cheap) (guesthouse|hotel) in the (north|west|centre)[ with free "
    "parking]. (Would you like to book it|Shall I book)?",
    "How many (nights|people)[ will you be staying]?",
    "(What|Which) day would you like the (table|booking|room|taxi) for?",
    "(Your|The) (table|room|taxi|booking) (at|for) (the |)(Golden Wok|Varsity Hotel|Grafton Hotel|"
    "Pizza Hut) is (booked|confirmed)[ for {nodate}]. Reference (7VGN5KQA|TXW3P9|2KX9T1AB).[ "
    "Anything else?]",
    "I have (14|5|several) options. Do you have an area in mind?",
    "(What|Which) price range (are you looking for|do you prefer)?",
    "What time would you like the taxi?",
    "(Booked|Done)[(,|.)] reference (1ZLP0ME3|YNZ48MB3). (Can I help with anything else|Anything "
    "else)?",
    # a choice that is not a place: the bare, capitalised answer is no span
    "(Window or aisle|Semi-cama or cama|Standard or first class|Economy or business|Seat or "
    "sleeper|Sleeper or couchette|Express or local|Single or return)[ (seat|ticket|please)]?",
]
DOMAIN_ANSWERS: list[str] = [
    "(yes|sure|yes please)[,] for (2|3|4|two|three) (people|guests)[, (2|3|two) nights][ starting "
    "(from |on |){nodate}]",
    "(2|3|two|three) nights (from|starting) {nodate}[ please]",
    "(the|in the) (west|north|centre|east)[ side][ please]",
    "(cheap|moderate|expensive)[ please]",
    "(at|around|by) (8:15|19:00|noon|6pm)",
    "(yes|yeah)[,] under (Martinez|Smith|Chen|Okafor)",
    "(i'd like to|can i) visit a (museum|college|park) in the (west|centre)[ while i'm in town]",
    "(Window|Aisle|Cama|Semi-cama|Sleeper|Couchette|Standard|First|Business|Express|Single|"
    "Return|Local)[(.|!| please| pls| one please)]",
]

# ----- what opens a conversation, and what the user said before the question -----
OPENERS: list[str] = [
    "(Hello|Hi|Hi there|Good morning|Good afternoon)[(,|!)] how can I help (you|)[ today]?",
    "Welcome to (SkyBook|RailFinder|BusPal|TripDesk|the travel desk)! What can I (do for you|help "
    "you book)?",
    "(hey|hi)! what are we booking today?",
    "Thanks for calling. What can I help you with?",
    "Is there anything else I can help with?",
]
EARLIER_USER: list[str] = [
    "(i need|i want|i'd like|looking for) a (flight|train|bus|ticket)[ (to|from) {place}]",
    "(i want|we want|i need) to book a (trip|train|flight)[ for {nodate}]",
    "(can you|could you) (help me|find me) (a flight|a train|some tickets)",
    "I'm looking for a train[ on {nodate}]",
    "(hi|hello)[,] i need to (get|travel) somewhere (cheap|soon)",
]
