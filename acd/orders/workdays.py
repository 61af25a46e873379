"""Working days in China: official holidays and swapped workdays (调休), from the
`chinesecalendar` package. For a date beyond the years the package knows, weekdays count as
working days and the result says it is an estimate (`estimated=True`), so a deadline is
never silently wrong: it is flagged, and can be recomputed once the package is updated."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar


def is_workday(day: date) -> tuple[bool, bool]:
    """(is it a working day, is that an estimate)."""
    try:
        return bool(chinese_calendar.is_workday(day)), False
    except NotImplementedError:
        return day.weekday() < 5, True


def add_working_days(start: date, days: int) -> tuple[date, bool]:
    """The day on which `days` working days after `start` have passed (the start itself does
    not count); whether any day on the way was an estimate."""
    if days < 0:
        raise ValueError("days must not be negative")
    day, left, estimated = start, days, False
    while left > 0:
        day += timedelta(days=1)
        work, guessed = is_workday(day)
        estimated = estimated or guessed
        if work:
            left -= 1
    return day, estimated


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end`."""
    n, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_workday(day)[0]:
            n += 1
    return n


def day_kind(day: date) -> str:
    """"workday" (a swapped working Saturday or Sunday included), "holiday" (a public holiday
    of the official calendar) or "weekend". Beyond the package's years: Monday to Friday
    workdays, the rest weekend (an estimate, as `is_workday` says)."""
    work, guessed = is_workday(day)
    if work:
        return "workday"
    if guessed:
        return "weekend"
    try:
        _off, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return "weekend"
    return "holiday" if name else "weekend"
