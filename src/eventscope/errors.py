"""Errors shared by every command."""


class UsageError(Exception):
    """Bad input from the user (a file, a flag, a config value): exit code 2, one line."""
