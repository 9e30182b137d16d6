"""The configurations the dashboard tests run against, and the dashboards built from them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eventscope.config import Config
from eventscope.generate import generated_files
from tests.alerts.tools import example_config

CONFIGS = {"defaults": Config, "example": example_config}


@pytest.fixture(params=sorted(CONFIGS), scope="module")
def config(request: pytest.FixtureRequest) -> Config:
    return CONFIGS[request.param]()


@pytest.fixture(scope="module")
def dashboards(config: Config) -> list[dict[str, Any]]:
    files = generated_files(config)
    return [json.loads(v) for k, v in sorted(files.items()) if k.startswith("dashboards/")]
