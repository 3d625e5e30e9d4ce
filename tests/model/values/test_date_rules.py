"""The date rules as a table: each rule reads its own examples, and no earlier rule takes them."""

from datetime import date

import pytest

from model.values.dates import RULES, DatePolicy, Reading, Rule, normalize, resolve_date

MON = date(2026, 11, 23)
ANCHOR = date(2026, 12, 4)


def deciding_rule(text: str) -> Rule:
    """The rule that decides ``text``: the first whose pattern matches, after any that only take
    a weekday off the front."""
    reading = Reading(normalize(text), MON, DatePolicy(), ANCHOR)
    for rule in RULES:
        if m := rule.pattern.fullmatch(reading.text):
            outcome = rule.read(m, reading)
            if not isinstance(outcome, Reading):
                return rule
            reading = outcome
    raise AssertionError(f"no rule reads {text!r}")


@pytest.mark.parametrize(
    ("rule", "example"), [(rule, example) for rule in RULES for example in rule.examples]
)
def test_each_rule_reads_its_examples_with_a_value(rule: Rule, example: str) -> None:
    if rule.name == "weekday before a date":  # it hands the rest of the text to a later rule
        assert rule.pattern.fullmatch(normalize(example))
        assert deciding_rule(example) is not rule
    else:
        assert deciding_rule(example) is rule
    assert resolve_date(example, MON, anchor=ANCHOR) is not None


def test_every_rule_has_a_name_of_its_own_and_examples_and_the_last_reads_anything() -> None:
    assert len({rule.name for rule in RULES}) == len(RULES)
    assert all(rule.examples for rule in RULES)
    assert RULES[-1].pattern.fullmatch("whatever is left")
