"""What the center reports upward to the provincial platform, kept so that the two reporting
indicators are computed from records (seed 002 art. 7): 通话记录报送率 (call records reported /
call records) and 数据报送及时率 (reports submitted on time / reports due).

A call record is "reported" when `hotline stats upload` has written it into an upload file for
the platform; a report is "submitted" when `hotline report` wrote it with `--submit`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from acd.history.models import Base


class CallRecordUpload(Base):
    """One call record written into an upload file for the platform."""

    __tablename__ = "call_record_uploads"

    uniqueid: Mapped[str] = mapped_column(ForeignKey("calls.uniqueid"), primary_key=True)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime)
    batch: Mapped[str] = mapped_column(String(80))  # the upload file's name


class ReportSubmission(Base):
    """A report handed in: monthly (due before the 3rd of the next month), annual (before
    10 January) or a special event (within 2 days after it ends)."""

    __tablename__ = "report_submissions"
    __table_args__ = (Index("ix_report_submissions_center_due", "center", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    center: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))       # month / year / special
    title: Mapped[str] = mapped_column(String(200), default="")
    period_start: Mapped[datetime] = mapped_column(DateTime)  # local time of the center
    period_end: Mapped[datetime] = mapped_column(DateTime)
    due_at: Mapped[datetime] = mapped_column(DateTime)
    submitted_at: Mapped[datetime] = mapped_column(DateTime)
