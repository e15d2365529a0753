"""Every operation of /api/v1, driven with generated requests (valid and invalid) from its own
OpenAPI document: no answer may be a server error, and every answer the document describes
must match it. Bounded by KEFU_FUZZ_EXAMPLES examples per operation (default 12)."""

from __future__ import annotations

import itertools
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from kefu.accounts.services import create_api_token
from kefu.core.permissions import SCOPES
from kefu.testing.factories import make_customer, make_ticket

EXAMPLES = int(os.environ.get("KEFU_FUZZ_EXAMPLES", "12"))


@pytest.fixture
def api_schema(centre, settings):
    from django.core import signals
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    settings.KEFU_API_RATE_LIMIT = 0  # the fuzzer sends far more than a person would
    customer = make_customer("张伟", phone="13800138000")
    for n in range(3):
        make_ticket(actor=centre["agent"], title=f"停电报修 {n}", customer=customer.pk)
    # As Django's test client does: requests share the test's connection and transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(centre):
    admin = centre["admin"]
    _token, raw = create_api_token(actor=admin, user=admin, name="fuzz", scopes=list(SCOPES))
    return raw


# each request commits or rolls back alone, as served
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_no_operation_answers_with_a_server_error(api_schema, admin_token):
    headers = {"Authorization": f"Bearer {admin_token}"}
    failures = []
    statuses: dict[int, int] = {}
    operations = 0
    for result, mode in itertools.product(api_schema.get_all_operations(), GenerationMode):
        operation = result.ok()
        operations += mode is GenerationMode.POSITIVE

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case):
            response = case.call_and_validate(
                headers=headers, checks=[not_a_server_error, response_schema_conformance]
            )
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        try:
            check()
        except Exception as exc:  # noqa: BLE001 - gather every operation's failure, then report
            failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}")
    print(f"{operations} operations, answers by status: {dict(sorted(statuses.items()))}")
    assert operations > 80
    assert failures == [], "\n\n".join(failures)
