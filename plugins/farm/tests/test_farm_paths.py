"""Path mapping rules, without a farm."""

from __future__ import annotations

import pytest

from proxx import ConfigurationError
from proxx_farm.paths import PathRule, map_path


def test_rules_map_whole_components_and_the_longest_source_wins():
    rules = [PathRule.parse("/Volumes/Media=/mnt/media"), PathRule.parse("/Volumes/Media/Raw/=/mnt/raw")]
    assert map_path("/Volumes/Media/day1/A001.mov", rules) == "/mnt/media/day1/A001.mov"
    assert map_path("/Volumes/Media/Raw/A001.R3D", rules) == "/mnt/raw/A001.R3D"
    assert map_path("/Volumes/MediaOld/A001.mov", rules) == "/Volumes/MediaOld/A001.mov"
    assert map_path("/elsewhere/A001.mov", rules) == "/elsewhere/A001.mov"


def test_a_windows_target_gets_windows_separators():
    rule = PathRule.parse("/Volumes/Media=M:\\Media")
    assert map_path("/Volumes/Media/day1/A001.mov", [rule]) == "M:\\Media\\day1\\A001.mov"


@pytest.mark.parametrize("text", ["/Volumes/Media", "=/mnt/media", "/Volumes/Media="])
def test_a_malformed_rule_is_a_configuration_error(text):
    with pytest.raises(ConfigurationError, match="is not SOURCE=TARGET"):
        PathRule.parse(text)
