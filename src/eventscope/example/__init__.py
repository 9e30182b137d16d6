"""The example order system: a publisher, billing and shipping consumers, a DLQ.

It is what ``eventscope demo`` runs and what the documentation's snippets come from:
ordinary application code with one decorator per producer and consumer.
"""

from eventscope.example.events import Order, make_order
from eventscope.example.system import OrderSystem

__all__ = ["Order", "OrderSystem", "make_order"]
