"""Local time by rules, not a fixed offset: what the clock shows, what "midnight" and the
boost schedule mean.

Zones:
- "Europe/Paris" (the default, as MaxPV! 3.59+): UTC+1, and UTC+2 from the last Sunday of
  March 01:00 UTC to the last Sunday of October 01:00 UTC (the EU rule since 1996).
- "UTC": the original v3.1's "heure solaire" (no daylight saving, midnight near the sun's).

Pure integer arithmetic on UNIX seconds (the days-from-civil algorithm), so it gives the same
answers under MicroPython on every port, whatever its own epoch, and under CPython (the tests
compare it with the system's zone database).
"""
ZONES = ("Europe/Paris", "UTC")
DAY_S = 86400


def days_from_civil(y, m, d):
    """Days since 1970-01-01 of the proleptic Gregorian date y-m-d."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil(days):
    """(year, month, day) of a day number since 1970-01-01."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (m <= 2), m, d


def last_sunday(y, m):
    """Day number of the last Sunday of month m (March or October: 31 days)."""
    last = days_from_civil(y, m, 31)
    return last - (last + 4) % 7          # 1970-01-01 was a Thursday (weekday 3, Monday 0)


def offset_s(zone, utc):
    """Seconds to add to UTC for `zone` at the UNIX time `utc`."""
    if zone == "UTC":
        return 0
    y = civil(utc // DAY_S)[0]
    start = last_sunday(y, 3) * DAY_S + 3600
    end = last_sunday(y, 10) * DAY_S + 3600
    return 7200 if start <= utc < end else 3600


def local(zone, utc):
    """Local time as seconds since 1970-01-01 00:00 local (for day numbers and HH:MM:SS)."""
    return utc + offset_s(zone, utc)


def day(zone, utc):
    """Local day number: it changes at local midnight."""
    return local(zone, utc) // DAY_S


def hms(zone, utc):
    """"HH:MM:SS" local."""
    s = local(zone, utc) % DAY_S
    return "%02d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60)
