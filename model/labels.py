"""The labels of this project's data (data/README.md), and which of them carry which value.

A model's own labels are whatever its training data contained (``meta.json`` lists them); these
are the ones the generator, the value resolvers and the reports know by name.
"""

DEPARTURE = "departure"
DESTINATION = "destination"
DATE = "date"
LABELS = (DEPARTURE, DESTINATION, DATE)
PLACE_LABELS = frozenset({DEPARTURE, DESTINATION})  # their spans' values are places
DATE_LABELS = frozenset({DATE})  # their spans' values are dates or ranges
