"""The transactional outbox: messages written with the business change, relayed to the broker.

```python
outbox = Outbox("kafka")                          # the broker the relay publishes to
with connection.transaction():                    # psycopg 3 (or sqlite3)
    connection.execute("INSERT INTO orders ...")
    outbox.write(connection, "orders", payload, key=customer_id)

Relay("postgresql://…/shop", kafka_publisher(producer)).start()   # or: eventscope outbox relay
```

The write stores the headers ``@producer`` writes (trace context, event id, publish
time) under a PRODUCER span; the relay publishes them unchanged, so consumers join the
trace of the transaction that wrote the row.  See docs/outbox.md.
"""

from eventscope.outbox.connection import connect, transaction
from eventscope.outbox.metrics import RelayStats, register_metrics
from eventscope.outbox.publishers import (
    kafka_publisher,
    nats_publisher,
    publisher_for,
    rabbitmq_publisher,
    redis_publisher,
)
from eventscope.outbox.relay import BacklogReader, Publisher, Relay, RelayPolicy
from eventscope.outbox.table import Backlog
from eventscope.outbox.writer import Outbox

__all__ = [
    "Backlog",
    "BacklogReader",
    "Outbox",
    "Publisher",
    "Relay",
    "RelayPolicy",
    "RelayStats",
    "connect",
    "kafka_publisher",
    "nats_publisher",
    "publisher_for",
    "rabbitmq_publisher",
    "redis_publisher",
    "register_metrics",
    "transaction",
]
