"""Kept scores: one row per scored call and sheet (质检 results), read back per seat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from acd.history.models import Base


class QaScore(Base):
    """An inspector's score of one recorded call against one sheet (the sheet's code and the
    items' points are kept, so a later change of the sheet leaves old scores readable)."""

    __tablename__ = "qa_scores"
    __table_args__ = (UniqueConstraint("uniqueid", "sheet", name="uq_qa_scores_call_sheet"),
                      Index("ix_qa_scores_center_seat", "center", "seat_id"),
                      Index("ix_qa_scores_scored_at", "scored_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    center: Mapped[str] = mapped_column(String(40))
    uniqueid: Mapped[str] = mapped_column(String(64))
    seat_id: Mapped[str] = mapped_column(String(20))
    call_started_at: Mapped[datetime] = mapped_column(DateTime)
    sheet: Mapped[str] = mapped_column(String(40))
    scores: Mapped[str] = mapped_column(Text)          # JSON {item: points}
    total: Mapped[int] = mapped_column(Integer)
    max_total: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text, default="")
    by_user: Mapped[str] = mapped_column(String(60))
    scored_at: Mapped[datetime] = mapped_column(DateTime)
