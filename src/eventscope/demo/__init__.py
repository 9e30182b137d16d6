"""``eventscope demo``: the example order system, instrumented, with a live summary."""

from eventscope.demo.runner import DemoOptions, DemoResult, run_demo

__all__ = ["DemoOptions", "DemoResult", "run_demo"]
