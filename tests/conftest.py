"""Shared fixtures: the data sets as the app loads them (grouping columns as categoricals)."""
import os

import pytest

import datasets

# app.py turns an unexpected error on a page into a plain message (and a line in the server's log);
# in the tests the error itself must surface, so AppTest's `at.exception` still sees it.
os.environ.setdefault("SHRINKAGE_LAB_RAISE", "1")


@pytest.fixture(scope="module")
def sleep():
    return datasets.load("sleepstudy")


@pytest.fixture(scope="module")
def iris():
    return datasets.load("iris")


@pytest.fixture(scope="module")
def gpa():
    return datasets.load("gpa")
