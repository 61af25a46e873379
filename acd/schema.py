"""Every table of the project in one metadata: the ledger (acd.history.models) and the tables
each feature keeps beside its code (API tokens, web users, work orders and the knowledge base,
upward reporting, the listening audit, quality scores, seat loans). Alembic's migrations and the schema test compare
against this."""

from __future__ import annotations

from sqlalchemy import MetaData

from acd.api import tokens
from acd.callers import models as callers_models
from acd.history import models, spy, upward
from acd.orders import models as order_models
from acd.outbox import models as outbox_models
from acd.quality import models as quality_models
from acd.seats import loans
from acd.web import users

# Each module defines its tables on the shared Base when imported; naming them keeps the
# imports (and so the tables) from being dropped as unused.
TABLE_MODULES = (models, tokens, order_models, users, upward, outbox_models, spy,
                 quality_models, callers_models, loans)


def metadata() -> MetaData:
    return models.Base.metadata
