"""``--eventscope-asyncapi``: the pytest plugin's drift guard, in whole pytest runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from eventscope.cli import main

NO_HYPOTHESIS = ("-p", "no:hypothesispytest")


@pytest.fixture
def project(pytester: pytest.Pytester, service: Path) -> Path:
    """A repository with the service's configuration under svc/ and its committed document."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    shutil.copytree(service.parent, pytester.path / "svc")
    config = pytester.path / "svc" / "eventscope.toml"
    assert main(["asyncapi", "--config", str(config), "--out", "asyncapi.yaml"]) == 0
    return pytester.path


def test_an_up_to_date_document_passes_and_a_changed_service_fails_readably(
    pytester: pytest.Pytester, project: Path
) -> None:
    options = ("--eventscope-asyncapi=asyncapi.yaml", "--eventscope-config=svc/eventscope.toml")

    passed = pytester.runpytest(*NO_HYPOTHESIS, "-v", *options)
    passed.assert_outcomes(passed=1)
    passed.stdout.fnmatch_lines(["asyncapi.yaml::asyncapi PASSED*"])

    config = project / "svc" / "eventscope.toml"
    config.write_text(
        config.read_text()
        .replace('[asyncapi.servers.nats]\nhost = "nats:4222"\nprotocol = "nats"\n', "")
        .replace('sends = ["orders", "shipments"]', 'sends = ["orders"]')
    )
    failed = pytester.runpytest(*NO_HYPOTHESIS, *options)

    failed.assert_outcomes(failed=1)
    failed.stdout.fnmatch_lines(
        [
            "*_ AsyncAPI document asyncapi.yaml against the code _*",
            "asyncapi.yaml is out of date with what the service declares "
            "(svc/eventscope.toml and its schemas):",
            "  server 'nats' (nats nats:4222) removed",
            "  sending to 'shipments' is gone (operation 'send.shipments')",
            "regenerate it: eventscope asyncapi --config svc/eventscope.toml --out asyncapi.yaml",
        ]
    )
    assert "Traceback" not in failed.stdout.str()


def test_a_missing_document_is_one_clear_failure(pytester: pytest.Pytester, project: Path) -> None:
    result = pytester.runpytest(
        *NO_HYPOTHESIS, "--eventscope-asyncapi=gone.yaml", "--eventscope-config=svc/eventscope.toml"
    )

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*gone.yaml: cannot read: No such file or directory"])
