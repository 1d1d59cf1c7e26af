"""The tables of class mode (SQLAlchemy Core). The migrations in ``classroom/migrations``
create exactly these; a test checks that the two agree.

Times are seconds since the epoch (UTC) as floats: the same on SQLite and PostgreSQL, and
easy to compare with ``time.time()``. Deleting a class deletes everything that belongs to it
(foreign keys with ON DELETE CASCADE; the store also deletes explicitly, so SQLite files
opened without foreign-key enforcement are cleaned up as well).
"""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

classes = sa.Table(
    "classroom_classes", metadata,
    sa.Column("code", sa.String(16), primary_key=True),
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False, index=True),
    sa.Column("closed", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("current_activity", sa.Integer, nullable=True),
)

participants = sa.Table(
    "classroom_participants", metadata,
    sa.Column("class_code", sa.String(16), sa.ForeignKey("classroom_classes.code", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("participant_id", sa.String(64), primary_key=True),
    sa.Column("joined_at", sa.Float, nullable=False),
    # Rate limit: submissions counted in a fixed window that starts at window_start.
    sa.Column("window_start", sa.Float, nullable=False),
    sa.Column("window_count", sa.Integer, nullable=False, server_default="0"),
)

activities = sa.Table(
    "classroom_activities", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("class_code", sa.String(16), sa.ForeignKey("classroom_classes.code", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),  # "question" or "experiment"
    sa.Column("payload", sa.Text, nullable=False),  # JSON: the question or the experiment's settings
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("revealed", sa.Boolean, nullable=False, server_default=sa.false()),
)

answers = sa.Table(
    "classroom_answers", metadata,
    sa.Column("activity_id", sa.Integer, sa.ForeignKey("classroom_activities.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("participant_id", sa.String(64), primary_key=True),
    sa.Column("choice", sa.Integer, nullable=False),  # index into the question's options
    sa.Column("answered_at", sa.Float, nullable=False),
)

samples = sa.Table(
    "classroom_samples", metadata,
    sa.Column("activity_id", sa.Integer, sa.ForeignKey("classroom_activities.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("participant_id", sa.String(64), primary_key=True),
    sa.Column("seed", sa.Integer, nullable=False),
    sa.Column("random", sa.String(16), nullable=False),  # the random effects the fit could support
    sa.Column("estimates", sa.Text, nullable=False),  # JSON: per method, per group (intercept, slope)
    sa.Column("submitted_at", sa.Float, nullable=False),
)
