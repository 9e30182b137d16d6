"""The one exception a broken contract raises."""


class ContractError(AssertionError):
    """A contract is broken: a consumer cannot handle its example, a producer's message
    does not match, or a body breaks its schema.  The message says which interaction,
    which field, expected and actual; it is an ``AssertionError`` so that test runners
    report it as a failure, not as an error in the test's own code."""


def missing_pact_python(exc: ImportError) -> ImportError:
    """The error for a contracts feature used without the optional dependency."""
    return ImportError(
        f"eventscope contracts need pact-python: pip install 'eventscope[contracts]' ({exc})"
    )
