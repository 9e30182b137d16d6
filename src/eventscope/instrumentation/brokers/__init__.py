"""One-line instrumentation for the official clients of each broker.

Each module wraps one client library (imported only when that module is), registers
its native message types with the consumer decorator, and knows how to settle a
retry or dead-letter outcome on that broker.
"""
