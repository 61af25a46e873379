from datetime import datetime

from sqlalchemy import select

from acd.history.db import session_factory
from acd.history.models import Call, QueueCall


def test_a_call_with_its_queue_stay_round_trips(db_engine):
    Session = session_factory(db_engine)
    t0 = datetime(2026, 11, 23, 9, 0, 0)
    with Session.begin() as s:
        s.add(Call(uniqueid="1700000000.12", linkedid="1700000000.12", node="pbx1",
                   center="shenyang", started_at=t0, caller_number="13800001234"))
        s.add(QueueCall(uniqueid="1700000000.12", center="shenyang", queue="highway",
                        entered_at=t0, position=1))
    with Session() as s:
        call = s.scalars(select(Call)).one()
        assert call.uniqueid == "1700000000.12"
        assert [a.queue for a in call.attempts] == ["highway"]
        assert call.attempts[0].outcome == "waiting"
