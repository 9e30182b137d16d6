"""AsyncAPI's own parser (``@asyncapi/parser``, with its Avro and Protobuf schema parsers)
run under Node on a document file: the diagnostics it gives, as Python values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.node import installed, run_node

PACKAGES = {
    "@asyncapi/parser": "3.6.6",
    "@asyncapi/avro-schema-parser": "3.1.0",
    "@asyncapi/protobuf-schema-parser": "3.9.0",
}
ERROR = 0
"""Diagnostic severities, as Spectral numbers them: 0 error, 1 warning, 2 info, 3 hint."""

SCRIPT = """
const { Parser, fromFile } = require('@asyncapi/parser');
const { AvroSchemaParser } = require('@asyncapi/avro-schema-parser');
const { ProtoBuffSchemaParser } = require('@asyncapi/protobuf-schema-parser');
(async () => {
  const parser = new Parser();
  parser.registerSchemaParser(AvroSchemaParser());
  parser.registerSchemaParser(ProtoBuffSchemaParser());
  const out = [];
  for (const file of process.argv.slice(2)) {
    const { document, diagnostics } = await fromFile(parser, file).parse();
    out.push({
      file,
      parsed: document !== undefined,
      diagnostics: diagnostics.map((d) => ({
        code: d.code, severity: d.severity, message: d.message.split('\\n')[0],
        path: d.path.join('.'),
      })),
    });
  }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(3); });
"""


def parse(*files: Path) -> list[dict[str, Any]]:
    """One ``{file, parsed, diagnostics}`` per file."""
    paths = [str(Path(file).resolve()) for file in files]
    result = run_node(installed("asyncapi-parser", PACKAGES), SCRIPT, *paths)
    if result.returncode != 0:
        raise RuntimeError(f"@asyncapi/parser failed to run:\n{result.stderr}")
    return json.loads(result.stdout)


def errors(report: dict[str, Any]) -> list[str]:
    """``path: message`` of every error-severity diagnostic."""
    return [
        f"{d['path']}: {d['message']}" for d in report["diagnostics"] if d["severity"] == ERROR
    ]
