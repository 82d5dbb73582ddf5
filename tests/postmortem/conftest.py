"""Fixtures every postmortem, action item and playbook test shares."""

from __future__ import annotations

import pytest

from tests.postmortem import in_request


@pytest.fixture(autouse=True)
def _request_context(app):
    yield from in_request(app)


@pytest.fixture
def agent(make_user):
    return make_user("agent", name="Seoyeon Park")


@pytest.fixture
def lead(make_user):
    return make_user("lead", name="Minji Kim", title="Payments lead")
