"""Calendar arithmetic that never fails on 29 February.

"Kept at least N years" means: delete only what is older than the same moment N years ago.
That moment does not exist for 29 February in a common year; the day before it (28 February)
is taken, so a record is always kept at least N whole years, never a day less.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TypeVar

D = TypeVar("D", date, datetime)


def years_before(moment: D, years: int) -> D:
    """The same day and time `years` years earlier; 29 February becomes 28 February."""
    year = moment.year - years
    try:
        return moment.replace(year=year)
    except ValueError:  # 29 February into a common year
        return moment.replace(year=year, day=28)
