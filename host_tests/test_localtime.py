"""Local time rules (net/localtime.py) against the system's zone database, and on the days
the clocks change."""
import datetime
import zoneinfo

import pytest
from hypothesis import given, settings, strategies as st

from net import localtime as L

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
UTC = datetime.timezone.utc


def utc(*args):
    return int(datetime.datetime(*args, tzinfo=UTC).timestamp())


@settings(max_examples=3000, deadline=None)
@given(st.integers(min_value=utc(1997, 1, 1), max_value=utc(2099, 12, 31)))
def test_europe_paris_matches_the_zone_database(t):
    want = datetime.datetime.fromtimestamp(t, PARIS)
    assert L.offset_s("Europe/Paris", t) == want.utcoffset().total_seconds()
    assert L.hms("Europe/Paris", t) == want.strftime("%H:%M:%S")
    assert L.civil(L.day("Europe/Paris", t)) == (want.year, want.month, want.day)


@pytest.mark.parametrize("year,march,october", [(2026, 29, 25), (2027, 28, 31), (2030, 31, 27)])
def test_the_clocks_change_on_the_last_sundays_at_one_utc(year, march, october):
    spring = utc(year, 3, march, 1)
    autumn = utc(year, 10, october, 1)
    assert L.hms("Europe/Paris", spring - 1) == "01:59:59"
    assert L.hms("Europe/Paris", spring) == "03:00:00"       # 02:00 does not exist
    assert L.hms("Europe/Paris", autumn - 1) == "02:59:59"
    assert L.hms("Europe/Paris", autumn) == "02:00:00"       # 02:00-03:00 twice
    # a local day is 23 h in spring and 25 h in autumn; midnight is still midnight
    assert L.day("Europe/Paris", utc(year, 3, march - 1, 23)) == L.days_from_civil(year, 3, march)
    assert L.day("Europe/Paris", utc(year, 3, march - 1, 22, 59, 59)) == L.days_from_civil(year, 3, march - 1)


def test_utc_is_the_v31_solar_time():
    t = utc(2026, 7, 14, 23, 30)
    assert L.offset_s("UTC", t) == 0 and L.hms("UTC", t) == "23:30:00"


def test_civil_dates_round_trip():
    for days in range(-800, 60000, 7):
        assert L.days_from_civil(*L.civil(days)) == days
