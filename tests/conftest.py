"""Shared fixtures: the data sets as the app loads them (grouping columns as categoricals)."""
import pytest

import datasets


@pytest.fixture(scope="module")
def sleep():
    return datasets.load("sleepstudy")


@pytest.fixture(scope="module")
def iris():
    return datasets.load("iris")


@pytest.fixture(scope="module")
def gpa():
    return datasets.load("gpa")
