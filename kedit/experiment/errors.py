"""The error of a run that cannot start or continue."""


class RunError(Exception):
    """A run that cannot start or continue; the message names the place (exit code 2)."""
