"""Errors a user can cause: each carries one plain sentence that the command line prints as it is."""


class UserError(Exception):
    """A failure with a one-sentence explanation meant for the person running the command."""
