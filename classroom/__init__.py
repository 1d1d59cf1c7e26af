"""Class mode: a live lecture where every student's answers and experiments reach the projector.

Storage and class logic only (SQLAlchemy Core + Alembic; no Streamlit, no Plotly):

- ``db``: which database (SQLite file by default, PostgreSQL by URL) and its migrated engine;
- ``store.ClassStore``: classes, join codes, instructor keys, participants, pushed questions
  and experiments, answers and samples, with validation and rate limits;
- ``experiment``: a class experiment's shared groups and each student's own sample and fit;
- ``summaries``: the distribution of answers and the class's sampling distributions.
"""
from . import codes, db
from .errors import ClassClosed, ClassError, ClassNotFound, InvalidSubmission, NotAllowed, RateLimited
from .store import (LIFETIME_S, ClassInfo, ClassQuestion, ClassStore, ExperimentSpec, NewClass,
                    QuestionResults, Sample, StudentView)

__all__ = [
    "codes", "db", "ClassStore", "ClassQuestion", "ExperimentSpec", "NewClass", "ClassInfo", "StudentView",
    "QuestionResults", "Sample", "LIFETIME_S", "ClassError", "ClassNotFound", "NotAllowed", "ClassClosed",
    "RateLimited", "InvalidSubmission",
]
