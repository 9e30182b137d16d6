"""The generated documents pass AsyncAPI's own parser, ``@asyncapi/parser`` under Node,
with its Avro and Protobuf schema parsers: no error-severity diagnostic.  The test
installs the parser itself (tests/asyncapi/node.py), once per machine."""

from __future__ import annotations

from pathlib import Path

import yaml

from eventscope.cli import main
from tests.asyncapi.parser import errors, parse

EXAMPLE = Path(__file__).parents[2] / "examples" / "contracts" / "asyncapi.yaml"


def test_the_example_and_a_service_in_three_formats_on_five_brokers_pass(
    service: Path, tmp_path: Path
) -> None:
    generated = tmp_path / "shop.yaml"
    assert main(["asyncapi", "--config", str(service), "--out", str(generated)]) == 0

    reports = parse(EXAMPLE, generated)

    for report in reports:
        assert report["parsed"], report["diagnostics"]
        assert errors(report) == [], report["file"]
    warnings = [d for r in reports for d in r["diagnostics"] if d["severity"] == 1]
    assert warnings == []


def test_the_parser_refuses_what_the_bindings_forbid(service: Path, tmp_path: Path) -> None:
    """The check can fail: a Kafka group id written as a plain string (the binding wants
    a schema), and a Protobuf payload that does not compile."""
    generated = tmp_path / "shop.yaml"
    assert main(["asyncapi", "--config", str(service), "--out", str(generated)]) == 0
    document = yaml.safe_load(generated.read_text())
    document["operations"]["receive.payments.billing"]["bindings"]["kafka"]["groupId"] = "billing"
    bad_binding = tmp_path / "bad-binding.yaml"
    bad_binding.write_text(yaml.safe_dump(document))
    document = yaml.safe_load(generated.read_text())
    document["components"]["schemas"]["shipments-value"]["schema"] = (
        'syntax = "proto3"; message ShipmentSent { strin id = 1; }'
    )
    bad_proto = tmp_path / "bad-proto.yaml"
    bad_proto.write_text(yaml.safe_dump(document))

    binding, proto = parse(bad_binding, bad_proto)

    assert not binding["parsed"]
    assert (
        'operations.receive.payments.billing.bindings.kafka.groupId: "groupId" property type '
        "must be object,boolean"
    ) in errors(binding)
    assert not proto["parsed"]
    assert any("no such Type or Enum 'strin'" in error for error in errors(proto))
