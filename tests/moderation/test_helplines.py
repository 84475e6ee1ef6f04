import pytest

from moderation.helplines import (
    clean_region,
    helpline_card,
    helpline_for,
    region_from_accept_language,
    regions_with_lines,
)
from moderation.models import Helpline

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("region", "name", "phone"), [
    ("US", "988 Suicide & Crisis Lifeline", "988"),
    ("CA", "9-8-8 Suicide Crisis Helpline", "988"),
    ("GB", "Samaritans", "116 123"),
    ("IE", "Samaritans Ireland", "116 123"),
    ("AU", "Lifeline Australia", "13 11 14"),
    ("NZ", "Need to talk? 1737", "1737"),
])
def test_seeded_verified_lines(region, name, phone):
    line = helpline_for(region=region)
    assert line is not None and line.is_verified
    assert (line.name, line.phone) == (name, phone)


def test_unknown_or_missing_region_falls_back_to_find_a_helpline():
    for region in ("FR", None, ""):
        line = helpline_for(region=region)
        assert line is not None and line.url == "https://findahelpline.com/"


def test_unverified_lines_are_never_shown():
    Helpline.objects.create(region="FR", name="Unchecked line", phone="000",
                            url="https://example.org/", is_verified=False)
    line = helpline_for(region="FR")
    assert line is not None and line.region == "*"
    assert "FR" not in regions_with_lines()


def test_card_has_the_protocol_fields_even_without_any_line():
    Helpline.objects.all().delete()
    card = helpline_card(helpline_for(region="GB"))
    assert set(card) == {"name", "phone", "text", "chat_url", "url", "hours", "open_24_7",
                         "region"}
    assert card["url"] == "https://findahelpline.com/"


@pytest.mark.parametrize(("header", "region"), [
    ("en-GB,en;q=0.9", "GB"),
    ("en_US", "US"),
    ("fr-CA;q=0.8", "CA"),
    ("en", None),
    ("ga", "IE"),
    ("zh-Hant-TW", "TW"),
    ("", None),
    (None, None),
    ("en-ZZZ", None),
    ("*", None),
])
def test_region_from_browser_language(header, region):
    assert region_from_accept_language(header) == region


@pytest.mark.parametrize(("raw", "region"), [("gb", "GB"), (" nz ", "NZ"), ("GBR", None),
                                             ("1A", None), ("", None), (None, None)])
def test_clean_region(raw, region):
    assert clean_region(raw) == region
