"""Config keys multilevel and rare_events: defaults, accepted values, clear errors."""

import pytest

from metareview.config import validate_config
from metareview.validation import InputError


def test_defaults_are_filled_in():
    config = validate_config({})
    assert config["multilevel"] == {"time_moderator": "log_weeks", "times": [1, 4, 12, 26]}
    assert config["rare_events"] == {"model": "UM.FS"}


def test_partial_block_keeps_the_other_defaults():
    config = validate_config({"multilevel": {"time_moderator": "weeks"}})
    assert config["multilevel"] == {"time_moderator": "weeks", "times": [1, 4, 12, 26]}


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"multilevel": {"time_moderator": "months"}}, ["multilevel.time_moderator", "months"]),
        ({"multilevel": {"times": [0]}}, ["multilevel.times"]),
        ({"rare_events": {"model": "CM.EL"}}, ["rare_events.model", "CM.EL"]),
    ],
)
def test_bad_values_name_the_key_and_value(config, words):
    with pytest.raises(InputError) as error:
        validate_config(config)
    for word in words:
        assert word in str(error.value)
