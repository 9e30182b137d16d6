"""Fuzz suites (hypothesis): hostile input to the runtime and to the schema checker."""
