"""One-line instrumentation for the official clients of each broker.

Each module wraps one client library (imported only when that module is), registers
its native message types with the consumer decorator, and knows how to settle a
retry or dead-letter outcome on that broker.  Header formats that are not plain
mappings have their carrier here too, in modules that import no client
(``kafka_headers``, ``sqs_attributes``), so the generic fallback can use them.

Each client also has a ``*_instrumentor`` module: one ``instrument()`` for the whole
process, on the client's own objects, and ``uninstrument()`` to take it back, built on
that client's wrappers (``aio_pika_instrumentor``, ``pika_instrumentor``,
``confluent_kafka_instrumentor``, ``aiokafka_instrumentor``, ``nats_instrumentor``,
``redis_instrumentor``, ``sqs_instrumentor``).  ``amqp_retry`` holds the delayed
RabbitMQ retries pika and aio-pika share.
"""
