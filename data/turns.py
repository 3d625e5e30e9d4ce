"""Conversation turns for the generator: what real users write around (and instead of) a request.

Real turns are several sentences, mix travel with hotels, restaurants, taxis, weather, payments and
complaints, answer questions, and share the travel cue words ("a place *to* stay", "need *to*
pay", "go *on* holiday", "talk *to* a manager", "lunch *on* Sunday"). The generator joins the
pieces here with the single-sentence templates (``templates.py``) into multi-sentence turns.

Same mini-language as ``templates.py``. Slots beyond the templates': ``{nodate}`` (a date phrase
that is *not* a travel date: a table's, a hotel stay's, a payment's day), ``{airline}``,
``{duration}`` (never a date), ``{dst2}`` (a second destination), ``{range}`` (two dates written
as a range, "june 3-9": two spans), ``{word}`` (an ordinary English word, :func:`ordinary_words`,
where a place could stand: "the beachfront one", "layovers kill me", "how about breakfast?"),
``{clock}`` (a departure time naming a service, "the 8:04 to Norwich": never a date).
"""

from __future__ import annotations

from functools import cache

# ----- other domains: no span, and the cue words of travel requests -----
DOMAIN: list[str] = [
    # hotels and stays
    "(i|we) (need|want|are looking for) a (place|somewhere|hotel|room|guesthouse|b&b) to (stay|sleep"
    "|crash|stay in|relax)[ for {duration}]",
    "(is|are) there (a|any) (cheap|nice|4 star|5 star|family friendly) (hotel|hotels|guesthouse"
    "|hostels) (in|near|around) (the centre|the city centre|downtown|{place}|the north|the east)",
    "(can you|could you|pls) book (me |us |)a (room|double room|hotel) (in|at|near) {place}"
    "[ (for|on) {nodate}][ for {duration}]",
    "i'd like to check in (on |)({nodate}|tomorrow|tonight) and (check out|leave) (on |){nodate}",
    "the hotel (needs|has) to have (free parking|wifi|a pool|breakfast included|a gym)",
    "we need a hotel (in|near) {place} (too|as well|also)",
    "does the (hotel|room|package) (include|come with) breakfast",
    "(book|reserve) (it|the room) for {duration} (starting|from) {nodate}",
    "i need a hotel to stay in (while i'm there|for the conference|near the station|{place})",
    "(is the|the) (hotel|apartment|resort) (close|near) to the (beach|airport|station|centre)",
    # restaurants
    "(i'd|we'd) (like|love) a table for (2|two|4|four|six|6) (on|for|this|next) {nodate}"
    "[ at {time}]",
    "(can you|could you) (find|recommend|book) (a|an|some) (italian|chinese|indian|cheap|expensive"
    "|nice|seafood|vegan|local) (restaurant|place to eat|place for dinner|spot for lunch)"
    "[ (in|near) ({place}|the centre|the hotel)]",
    "(lunch|dinner|brunch|breakfast) (on|this|next) {nodate} (at|around) {time}",
    "(we want|i want) to eat (somewhere|something) (cheap|nice|local) (tonight|later|after)",
    "book (dinner|a table) at (the|that) (restaurant|place) for {nodate}",
    # taxis and ground transport
    "i (need|want) a taxi (from|to) the (hotel|restaurant|station|airport|museum)"
    "[ (to|from) the (hotel|restaurant|station|museum|college)][ at {time}]",
    "(can you|please) (get|book|call) (me |us |)a (cab|taxi|uber|car) to the (airport|station"
    "|hotel)[ (at|by|for) {time}]",
    "how do (i|we) get to the (airport|hotel|city centre|train station|beach) from (here|the hotel"
    "|downtown|the station)",
    "(is there|do you have) a (shuttle|bus|transfer) (from|to) the airport",
    "we (want|need) to rent a car (in|at) {place}[ for {duration}]",
    "pick (me|us) up at {time} (please|pls|)",
    # weather, sights, small talk
    "what's the weather (like |going to be like |)in {place} (in|on|this|next) {nodate}",
    "(is it|will it be) (cold|hot|rainy|sunny) in {place} (in|this|next) ({nodate}|week|season)",
    "i (just |)want to (see|explore|walk around) the (town|city|old town|beaches|museums)",
    "(what|are there) (things|anything) to (do|see) in {place}",
    "i grew up in {place}[ so i know it well]",
    "my (sister|brother|cousin|friend|mom) (lives|lived|works) in {place}",
    "(we|i) (loved|hated|liked) {place} last (year|time|summer)",
    "(we're|we are|i'm|i am) going on (holiday|vacation|a honeymoon|a business trip|a cruise)"
    "[ (this season|this summer|soon|next year)]",
    "(haha|lol|omg|wow|yay|ugh|aww|hmm|ok|okay|sure|cool|great|perfect|awesome|thanks|thank you"
    "|ty|thx|sounds good|got it|no worries|no problem)",
    "(that's|that is) (great|perfect|too expensive|a bit much|fine|ok|not what i wanted)",
    "(i|we) forgot to (tell|mention to|say to) you (that |)(we have a dog|it's 3 people|my wife is"
    " coming|we need two rooms)",
    "(to be honest|honestly|tbh|frankly) (i|we) (don't|do not) (mind|care) (about the price|where"
    " we go|which airline)",
    "from what (i|we) (read|heard|saw|can tell) (it's|it is) (nice|expensive|cheap|busy|quiet)"
    "[ (in|this|next) {nodate}]",
    "(just|i'm just|i am just|we're just) (looking|looking for information|browsing|checking"
    " prices|asking)[ for now]",
    "(can you|could you|please) look into (deals|packages|discounts|options|it|that)[ for me]",
    "(ah|oh|um|hmm|uh)[,] (wait|hold on|one sec|never mind|sorry)",
    "(i'll|i will|let me) (check|ask|talk to) (my (wife|husband|boss|partner)|the others) (first|and"
    " get back to you)",
    "(in|give me) a (minute|sec|second|moment)",
    "(may|can|could) i ask (a question|something|how much it is|what the baggage allowance is)",
    "(are|will) the same people (be|come) (on|with) (the trip|us)",
    "(i|we) (have|need) to go to bed[ soon]",
    "back home (we|i) (usually|always) (fly|travel|book) with {airline}",
    # payments, bookings, complaints
    "(i|we) (need|want|have) to pay (the deposit|the balance|extra|for the bags|by card|in cash)"
    "[ (by|on|before) {nodate}]",
    "(i'm|i am|we're|we are) happy to pay (extra|more) for (a direct flight|a window seat|breakfast"
    "|a bigger room)",
    "(my|the) card was charged (twice |)(on|last) {nodate}",
    "(please |pls |)(charge|put it on|use) (the|my) (Visa|visa|Mastercard|Amex|AMEX|debit card|card)"
    "[ ending in (4471|0032|9918|1234)]",
    "(i|we) (prefer|like|always fly|would rather fly) {airline}[ but (anything|whatever) (works|is fine)]",
    "(no|not) {airline} (please|pls|again|if possible)",
    "(is|are) {airline} (any good|ok|reliable|cheaper)",
    "(i want|i'd like|can i) (to |)talk to a (manager|supervisor|human|real person|agent)",
    "(i want|i'd like) (a refund|my money back|to cancel) (for|on) (my booking|the hotel|the order"
    "|booking ref (ab12x|77k3q|n0r4d))",
    "my (bag|luggage|suitcase) (was lost|didn't arrive|was damaged) (on|with) {airline}[ (on|last)"
    " {nodate}]",
    "(the|my) flight (was|got) (delayed|cancelled|canceled) (again|for 5 hours|twice)",
    "(i|we) (booked|flew|travelled) with {airline} (last time|before|in the past)"
    "[ and (they|it) (were|was) (awful|great|fine)]",
    "(what is|what's|can i get) the reference number",
    "(is|was) (that|the booking) for {duration}",
    "(i|we) (want|need|would like) {duration} (there|in total|max|at most)",
    "(we have|i have|there's) a budget of (2000|2k|1500 dollars|£900|800 euros)",
    "(is the|the) (5 star|all inclusive|beach|family|cheap) (deal|package|option) (still available"
    "|any good|worth it)",
    "the {duration} (deal|package|trip|one) (looks|sounds|seems) (good|great|too long|too short)",
    "(a|the) {duration} trip (sounds|is) (perfect|too long|about right)",
    "under {duration} (please|if possible|would be best)",
    "(is|what is|what's) the status of flight ({airline_code} (123|4410|88|2150)|(123|4410|88|2150))",
    # places that are not where a trip starts or ends
    "(she|he|my mom|my dad|i) (hates|hate|doesn't like|don't like) driving to {place}",
    "anything that (doesn't|doesnt|does not) (connect|stop|change) (thru|through|in|via) {place}[ (pls|please)]",
    "we'd (like|prefer) to avoid changing planes in {place}[ if we can]",
    "(we're|we are|i'm) fine with a (stop|layover|connection) in {place} or {place}",
    "(is there|do you have) a (shuttle|bus|car|transfer) to {place} from (there|the airport|the hotel)",
    "(and then|then) a (car|taxi|bus|shuttle) to {place}[, we'll sort that]",
    "what (airport|station) is closest to (downtown|central|the centre of) {place}",
    "the drive from {place} is too long[ with (kids|the kids)]",
    "(i|we) flew in from {place} (yesterday|last week|on {nodate}) and (my|our) (bag|luggage) (is|was) (still |)(not here|missing|lost)",
    "my passport says {place} (as|for) (my |)(birthplace|place of birth)",
    "(we're|we are|i'm|i am) staying (with friends |with family |)in {place} (for|during) {duration}",
    "(the|our) hotel in {place} (is|was) (great|awful|too far|fine)",
    "(i|we) (used to|once) (live|lived|work|worked) in {place}",
    "(is|was) (that|the train|the flight) (via|through) {place}",
    "(i|we) (have|had) a (layover|stopover|connection) in {place}",
    # small talk with days and numbers that are not travel days
    "(u|you) guys are (slow|fast|quick|busy|great|awesome) today[ lol]",
    "(we|i) can (sort|finish|do|look at) (it|this|that) tomorrow[ 😴]",
    "(im|i'm|i am) going to bed now[,] (talk|chat|speak) tomorrow",
    "(its|it's) the (second|third|fourth) time today",
    "(need|have) to pay the (rest|balance|deposit) by the (10th|15th|1st|20th)[ right]",
    "(5|6|4|3)? (6|7|5|4)?",
    "how many (days|nights) is (that|it|the tour)",
    "(we dont|we don't|i dont|i don't) need a 5 star[,] (3|4) is fine",
    "(about|around|like) (20|12|30|8) (people|of us|ppl)",
    "(4|5|3) (nights|days)? (5|6|4)?",
    "(how long|how many days) do (we|i) need[ really]",
    "(the|our) (restaurant|dinner|table) (thing|booking|reservation) for {nodate}",
    "the hotel (booking|stay|reservation) should start on {nodate}[, not {nodate}]",
    "(we'll|we will) be eating out on {nodate}[ around {time}]",
    "what time does the (museum|gallery|castle|pool|gym) open on (saturdays|sundays|mondays|{nodate})",
    "(same day|that day|the same day)[,] {time}",
    "(the|our) (anniversary|birthday|bday) is (on |){nodate}",
]

# ----- a multi-domain assistant's other bookings: venues, tables, stays, with days and places -----
DOMAIN += [
    "(i need|i want|i'd like|can i get|book me|please book) a (taxi|cab) (from|to) {venue}[ (to|from) {venue}][ (at|by|around) {time}]",
    "(taxi|a cab|a taxi) from {venue} to {venue}[ please][, (around|at|by) {time}]",
    "the taxi should (leave|pick me up at|arrive at) {venue} (at|by|after) {time}",
    "(i need|can i get) a taxi to (get to |)the (train station|airport|bus station|hotel) (by|at|before) {time}[, from {venue}]",
    "(going|heading|i'm going) to the (airport|station|hotel|restaurant)[ (tomorrow|tonight|later)]",
    "(hey |)can you book me a (cab|taxi|car) for (tomorrow|tonight|later|{nodate}) at {time}[? going to the (airport|station)]",
    "(is|what's|whats) the {venue} a (hotel|guesthouse|restaurant|museum)",
    "(does|is) the {venue} (have|has|offer) (free parking|free wifi|a pool|vegetarian options)",
    "(i'd like|book|i need|can i have) the (guesthouse|hotel|room|apartment) for (2|3|4|5|6) (people|guests)[,] (2|3|4|5) nights[,] (from|starting|starting on|on) {nodate}",
    "(we|i) need the (guesthouse|hotel|room) from {nodate} to {nodate}",
    "(a|the) table for (2|4|6|8) at {time} on {nodate}",
    "the restaurant should be in the (south|north|centre|east|west) and serve (indian|chinese|italian|thai|british|european) food",
    "(we've got|i have|we have) tickets for {nodate}",
    "(we'll|we will|i'll) have a free (morning|afternoon|day|evening) on {nodate}",
    "(is it possible to get|can i get|i'd like) a late checkout on {nodate}[ at the (resort|hotel)]",
    "{nodate} is the (restaurant|dinner|hotel|museum)",
    "(could i|can i|i want to) get a refund for the (train|ticket|booking|taxi) on {nodate}",
    "(can you|could you) find me the address of the {venue}",
    "(is there|do you have) a (thai|chinese|indian|italian) place (open late |)(near|by) the {venue}[ on {nodate}]",
    "(what is|what's) the cost of a (limousine|taxi|rental car|shuttle) in {place}",
    "what time zone is {place} in",
    "where (do i|can i) pick up the rental car at the {place} airport",
    "the flight to {place} was (delayed|cancelled|late)[ (3 hours|again)][ and no one told us anything]",
    "my (suitcase|bag|coat) (got left|was left) on the train at {place}",
    "(is|are) there (a|any) (7 day|day|weekly) pass for the {place} buses",
    "(we'll|we will) be staying in {place} for (a week|{duration})",
    "(i|we) need to get to the airport from (downtown |)(the hotel|{place})",
    "(the|that) {place} one was for my (friend|sister|boss)",
]

# ----- interjections, slang and chat noise: short turns with no span -----
FILLERS: list[str] = [
    # an ordinary word where a place could be: the words around it do not make it one
    "{word}",
    "{word} (lol|tho|haha|pls|kill me|is fine|sounds good|is a must|matters)",
    "{word} (needs|need|wants|want|says|said|is|was) (convincing|a break|it|that|fine|ok|too much)",
    "(so|ok|okk|okay)[,] {word}[:]",
    "(my|our|the) {word} (needs|wants|says|said|thinks) (so|that|it's fine|we should go)",
    "(i|we) (love|hate|need|want|like) (the |my |our |){word}[ lol]",
    "(the|a|this|that) {word} (one|thing|option|deal|part|package)",
    "(what|how) about (the |a |some |)({word}|{word}s)",
    "(and|or) the {word}",
    "not the {word} one[ lol]",
    "(can i|can we|could you) change the {word} to {nodate}",
    "(for|with|without|about) (the |)(a |){word}[ i mean]",
    "(no|any|more|less) {word}[ (please|pls|thanks)]",
    "(is|are) the {word} (included|extra|free|ok|nice)",
    "(my|our) {word} (is|was) (great|awful|late|missing|broken)",
    "(it's|its|that's) (a |the |)(bit |really |so |){word}",
    "day (1|2|3|one|two)[ was (great|awful)]",
    "(my|our) (parents|kids|grandparents) are (72|75|8|12|60) and (75|10|14|65)",
    "(each|every) (day|morning|week)",
    "what is the capacity of a (boeing |)(seven (six|four|three|two) seven|737|a320)",
    "the (seven fifty five|six thirty|nine fifteen|ten oh five) (flight|train|bus)",
    "(can i get|what's|whats) the (train|flight|booking) (id|ID|number|reference)",
    "(nvm|never mind|nevermind)[ (sorry|sry|lol)]",
    "(sry|sorry|soz|my bad|oops|whoops)[ (wrong chat|typo|autocorrect)]",
    "(lol|lmao|lmaooo|haha|hahaha|rofl|xd|omg|omggg|wow|bro|dude|yikes|ugh|meh|welp)",
    "(BRO|OMG|LOL|WOW|YESSS|NOOO|OK|PLEASE)",
    "(jk|jk jk|just kidding)[ we cant afford that]",
    "(tbh|ngl|imo|idk|ikr|btw|fyi|fr|smh|rn|asap|np|ty|thx|tysm|pls|plz)",
    "(autocorrect|my phone) (again|lol|smh)",
    "(doable|possible|realistic|worth it)?",
    "(cool cool|okok|okk|kk|k|yep|yup|yeah|yes|nope|nah|sure|fine|alright)",
    "(hi|hey|hello|hiya|heyyy|yo|sup)[ (again|there|guys)][ (remember me|its me again)]",
    "(is anyone there|anyone?|hello?)",
    "(in|pls quote in) (CAD|USD|EUR|GBP|dollars|euros)[ pls]",
    "(shorter|longer|cheaper|earlier|later) (pls|please|if possible)",
    "(no rush|take your time|no worries)",
    "(wait|hold on|one sec)[ (lemme|let me) (check|ask)]",
    "(that|this) (looks|sounds) (insane|amazing|sick|awesome|too good to be true)",
]

# ----- follow-ups and answers: a place with no role cue is a destination -----
FOLLOW_UPS: list[str] = [
    "(what|how) about {dst}",
    "(and|or) {dst}",
    "{dst}",
    "{dst} (then|maybe|perhaps|instead|please|pls)",
    "(hmm|ok|okay|so|well|actually)[,] {dst}",
    "(i'll|we'll|i will|we will|let's) (take|go with|book) the {dst} (deal|package|one|option|trip)",
    "(is|does) the {dst} (deal|package|trip|one) (still available|include flights|all inclusive)",
    "the {dst} (deal|package|option|one) (looks|sounds) (good|great|amazing|too expensive)",
    "what (do you have|is there|have you got) (for|in) {dst}",
    "(it's|it is|that's|that would be|that'd be|make it|let's say|i said) {dst}",
    "(no|nope|sorry|actually)[,] (to|i meant|i want to go to|going to) {dst}",
    "(my|our) (wife|husband|kids|family|friend) (loves|adores|wants to see|has always wanted to see)"
    " {dst}",
    "(can you|could you|pls|please) (check|compare|look at) {dst} (and|vs|or) {dst2}",
    "{dst} (and|or|vs) {dst2}",
    "{dst}, {dst2}, (or |)(anywhere|whatever|wherever)[ (really|is cheapest)]",
    "(is|are) the {dst} (deal|thing|package|trip|tour) (kid friendly|sold out|still on|any good|per person)",
    "(pls |please |)tell me the {dst} (thing|deal|package) (isnt|isn't|is not) sold out",
    "(i'd like|i want|book|can we do) the {dst} (5 star |all inclusive |beach |)(deal|package|trip) for {duration}[, {range}][, from {dep}]",
    "the {dst} trip is {range}[, flying from {dep}]",
    "{dst}[.] (he|she|we|my wife|my husband) (wants|want) to (hike|ski|surf|see the (old town|beaches|temples)) again",
    "is {dst} cheaper than {dst2}[ for that week][? either works]",
    "(we were thinking|maybe|what about something like|i was thinking) {dst} but (honestly |)(it's|its) a bit (far|pricey|much)",
    "(my friend|my cousin|everyone) says {dst} is (underrated|amazing|way cheaper)",
    "(can u|can you|could you) price out {dst} for {range}",
    "(i'm|we're|i am|we are) looking at {dst} for {date}",
    "(honestly |)(whatevers|whatever's|whichever is) cheapest[.] {dst}, {dst2}",
    "(from|leaving from|departing from|out of) {dep}",
    "(from|out of) {dep}[,] (on|for|this|next) {date}",
    "{dst}[,] (on|for) {date}",
    "(i'm|i am|we're|we are) (in|at|based in|flying out of) {dep}",
    "(how about|what about|and|or) {date}",
    "{date} (works|is fine|is better|would be best|then)",
    "(leaving|out|going|departing) {date}[,] (back|returning|coming back) {date2}",
    "{range}",
    "(from|for|dates are|travelling|traveling|sometime between) {range}",
    "{dst}[,] {range}",
    "{dep} to {dst}[,] {range}",
    "(flights|trains|buses|anything) (to|into) {dst} {range}",
    # changing the day of a booked journey: the new day is the journey's
    "(can i|can we|could you|can you|pls|please) (change|move|push|switch) (the|my|our) (flight"
    "|date|trip|booking|departure|ticket|train|return) to {date}[ instead]",
    "(wrong date|that's the wrong day|oops wrong day|hey, wrong date)[(!!|!|,)] it should be {date}"
    "[ (pls fix|please|thanks)]",
    "(wait no|no wait|actually no|sorry i meant|i meant|sorry, i meant)[,] {date}",
    "(book|i'll take|we'll take|get me|let's do) the (one|flight|train|bus|earlier one|later one)"
    " (on |for |){date}",
    "(we|i) (fly|leave|go|head) out (from here |)(on |){date}[ hopefully]",
    # timetables: a departure time names a service, the place after it is where it goes
    "(the|is the|does the|and the) {clock} (to|for|into) {dst}[ (still running|on time"
    "|have a quiet coach|have wifi|full|cancelled)]",
    "(is there|any|do you have|what about) (a later|an earlier|another|a direct) (one|train|bus"
    "|flight|connection) (to|into) {dst}",
    "(i'll take|book|we'll take|get me on) the {clock} (to {dst}|from {dep}|from {dep} to {dst})",
    "the {clock} from {dep}[ to {dst}] (got cancelled|was cancelled|is delayed|is full)",
    "(what's|what is) the arrival time (in|at|into) {dst}",
    "(can you|could you|pls) (email|send|text) me the (itinerary|tickets|confirmation|e-tickets)"
    " for {dst}",
    # uncued places of a trip being planned: where the traveller wants to go
    "{dst}(??|?|!!) is that even (possible|doable) from {dep}[ lol]",
    "(want|wanna|need|we want) to (book|do) {dst} (over|for|in) {date}[, (4|2|two) adults]",
    "(my husband|my wife|my partner|he|she) wants {dst}, (i want|i'd rather do|i prefer) {dst2}",
    "how long do (we|i|you) (need|want) in {dst}[ really]?",
    "{dst} or {dst2}, whichever has the (better|cheaper) (resort|hotel|flights|beaches)",
    "(sooo |so |)is there (any|a) deal for {dst}[? like flights + hotel]",
    "{dep} to {dst} first, then {dst2} from there[, then home]",
    "(stuck|stranded) in {dep}[ (cuz|because) of (snow|the strike|a delay)], need to get (home |"
    "back |)to {dst}[ asap]",
    # where the traveller lives or is: the departure
    "(i|we) live in {dep}[ so (anything|whatever) (works|is fine)]",
    "(my mom lives|my dad lives|she lives|he lives|they live) in {dep} so the (flights|trip) would"
    " start from there",
]

# ----- what joins sentences in one turn -----
# Words people put right after a place or a date, outside its span ("the Sedona spa deal",
# "Wednesday now", "cambridge obviously").
TAILS = (
    "now", "ideally", "obviously", "then", "too", "instead", "anyway", "maybe", "tho", "lol",
    "pls", "please", "bc", "again", "only", "spa", "deal", "combo", "package", "area", "side",
    "weekly", "trip", "one", "is fine", "works", "after 5", "after 1pm", "or so", "ish", "btw",
    ", whichever", ", true", ", right", ", please", ", thanks", ", either", ", or wherever",
)  # fmt: skip
SEPARATORS = (
    (". ", 30),
    ("! ", 8),
    ("? ", 8),
    ("!! ", 3),
    ("... ", 3),
    (".. ", 2),
    ("\n", 10),
    ("\n\n", 3),
    (" \n", 2),
    (", ", 6),
    (" - ", 2),
    (" ", 6),
    (" :) ", 2),
    (" lol ", 2),
    (" 😊 ", 1),
    (" 🙏 ", 1),
)
EMOJI = (
    "😊", "😍", "🙏", "😅", "🙌", "✈️", "🌴", "😂", "👍", "🤔", "😭", "🎉", "❤️", "☀️", "💀",
    ":)", ":(", ":D", ";)", "xD", "<3", ":-)", ":P", ":/",
)  # fmt: skip
AIRLINES = (
    "United Airlines", "United", "Delta", "American Airlines", "Southwest", "JetBlue",
    "Alaska Airlines", "Air Canada", "WestJet", "British Airways", "easyJet", "Ryanair",
    "Lufthansa", "Air France", "KLM", "Iberia", "Aer Lingus", "Emirates", "Qatar Airways",
    "Turkish Airlines", "Singapore Airlines", "Air China", "Virgin Atlantic", "Spirit",
    "Frontier", "Avianca", "LATAM", "Aeromexico", "Copa", "Qantas", "Air New Zealand",
)  # fmt: skip
AIRLINE_CODES = ("UA", "DL", "AA", "BA", "AF", "LH", "WN", "B6", "AC", "EK", "KL", "IB")
# Durations are never dates ("a five day trip", "the 9 night deal", "under 10 days").
DURATION_NUMBERS = (
    "2", "3", "4", "5", "6", "7", "8", "9", "10", "12", "14", "two", "three", "four", "five",
    "six", "seven", "eight", "nine", "ten", "a couple of", "a few",
)  # fmt: skip
DURATION_UNITS = ("day", "days", "night", "nights", "week", "weeks")

# Venues of the other bookings (taxi ends, hotels, restaurants, sights): never a trip's end.
VENUE_SUFFIXES = (
    "Hotel", "Guest House", "Guesthouse", "Lodge", "Centre", "College", "Inn", "Arms", "House",
    "Hall", "Museum", "Gallery", "Restaurant", "Bistro", "Kitchen", "Bar", "Theatre", "Park",
)  # fmt: skip
VENUE_PREFIXES = ("Hotel", "Casa", "Villa", "Hostal", "Posada", "Restaurant", "Café", "Hostel")
VENUE_CHAINS = (
    "Pizza Hut", "Nando's", "the Hilton", "Premier Inn", "Holiday Inn", "Travelodge", "the Marriott",
    "Addenbrookes", "the Randolph Hotel", "the Ritz", "Starbucks", "the Grand Hotel",
)  # fmt: skip

# Made-up places (rare and fictional names are common in chat, and in no table): a prefix, a root,
# a suffix, each optional but the root.
FICTIONAL_PREFIXES = (
    "San", "Santa", "Puerto", "Isla", "Port", "Mount", "Lake", "New", "El", "La", "Los", "St.",
    "Fort", "North", "East", "Cape", "Costa", "Villa", "Bahia", "Punta",
)  # fmt: skip
FICTIONAL_ROOTS = (
    "vexl", "maren", "aurel", "corvin", "lumbr", "serid", "taval", "oquen", "bravel", "quint",
    "dorn", "velm", "ashb", "kelv", "marl", "wyn", "thorn", "zarl", "peln", "rivel", "calder",
    "olb", "fenn", "greyl", "sunn", "kors", "ambr", "bel", "tor", "yar", "nov", "lis", "mir",
)  # fmt: skip
FICTIONAL_ENDINGS = (
    "a", "o", "ia", "ton", "ville", "burg", "field", "port", "mouth", "ford", "haven", "dale",
    "ar", "ena", "ito", "inho", "stad", "holm", "by", "wick", "ara", "ez", "is",
)  # fmt: skip


@cache
def ordinary_words() -> tuple[str, ...]:
    """Common English words that name no place in the place table and no day: the ordinary words
    people put where a place could stand. From ``wordfreq`` (a training-only dependency)."""
    import wordfreq

    from model.lexicon import normalize_token
    from model.values.places import PlaceIndex

    names = PlaceIndex.load().table["names"]
    days = {d.lower() for d in (*DAY_WORDS,)}
    return tuple(
        w
        for w in wordfreq.top_n_list("en", 30_000)[200:]
        if w.isalpha() and len(w) > 2 and normalize_token(w) not in names and w not in days
    )


DAY_WORDS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday", "mon", "tue", "tues", "wed", "thu", "thurs", "fri", "sat", "sun",
    "today", "tomorrow", "tonight", "yesterday", "christmas", "easter", "weekend",
)  # fmt: skip
FICTIONAL_SUFFIXES = (
    "Bay", "Beach", "City", "Springs", "Falls", "Harbor", "Island", "Valley", "End", "Alta",
    "del Mar", "Heights", "Cross", "Junction",
)  # fmt: skip
