"""Contract tests run whole pytest sessions (the plugin's job is to shape them), so the
pytester plugin is enabled here, for this directory's tests only."""

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.import_plugin("pytester")
