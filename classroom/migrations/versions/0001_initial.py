"""Class mode's first tables: classes, participants, activities, answers, samples.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "classroom_classes",
        sa.Column("code", sa.String(16), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("closed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("current_activity", sa.Integer, nullable=True),
    )
    op.create_index("ix_classroom_classes_expires_at", "classroom_classes", ["expires_at"])
    op.create_table(
        "classroom_participants",
        sa.Column("class_code", sa.String(16), sa.ForeignKey("classroom_classes.code", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("participant_id", sa.String(64), primary_key=True),
        sa.Column("joined_at", sa.Float, nullable=False),
        sa.Column("window_start", sa.Float, nullable=False),
        sa.Column("window_count", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "classroom_activities",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("class_code", sa.String(16), sa.ForeignKey("classroom_classes.code", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revealed", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_classroom_activities_class_code", "classroom_activities", ["class_code"])
    op.create_table(
        "classroom_answers",
        sa.Column("activity_id", sa.Integer, sa.ForeignKey("classroom_activities.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("participant_id", sa.String(64), primary_key=True),
        sa.Column("choice", sa.Integer, nullable=False),
        sa.Column("answered_at", sa.Float, nullable=False),
    )
    op.create_table(
        "classroom_samples",
        sa.Column("activity_id", sa.Integer, sa.ForeignKey("classroom_activities.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("participant_id", sa.String(64), primary_key=True),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("random", sa.String(16), nullable=False),
        sa.Column("estimates", sa.Text, nullable=False),
        sa.Column("submitted_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in ("classroom_samples", "classroom_answers", "classroom_activities", "classroom_participants"):
        op.drop_table(table)
    op.drop_index("ix_classroom_classes_expires_at", "classroom_classes")
    op.drop_table("classroom_classes")
