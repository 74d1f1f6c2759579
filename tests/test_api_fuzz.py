"""schemathesis against a live test server, from the API's own OpenAPI schema: every operation,
as an admin and as an author (write tokens), with generated parameters and bodies. No answer may
be a server error, and every answer must be what the schema says (status, content type, body).

Bounded: ``EXAMPLES`` cases per operation and person (a couple of minutes in all).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from agents import tokens, workflow
from agents.models import AccessToken

from .factories import AgentFactory

EXAMPLES = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("migrated_data")]


@pytest.fixture
def portal(live_server, settings, author, reviewer):
    """Agents in every state, and room for the fuzzer's many requests."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "100000/hour", "token": "100000/hour"},
    }
    AgentFactory(name="published-one", owner=author, tools=3, steps=2, published=True)
    draft = AgentFactory(name="draft-one", owner=author, steps=1)
    review = AgentFactory(name="in-review", owner=author)
    workflow.transition(review, "submit", author)
    del draft
    return live_server.url


@pytest.mark.parametrize("who", ["admin_user", "author"])
def test_the_api_answers_every_generated_request_as_its_schema_says(portal, who, request):
    user = request.getfixturevalue(who)
    _, secret = tokens.create(user, "fuzz", 30, AccessToken.Scope.WRITE)
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_url(f"{portal}/api/schema/?format=json")
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18, "every endpoint is in the schema"
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case) -> None:
            case.call_and_validate(base_url=portal, headers=headers, checks=CHECKS)

        try:
            fuzz()
        except Exception as failure:  # noqa: BLE001 (collected: one report for every operation)
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}")
    assert not failures, "\n\n".join(failures)
