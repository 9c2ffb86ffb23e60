"""Errors that the command line reports as one clear line (exit code 2), without a traceback."""


class UsageError(Exception):
    """A bad argument, a missing data folder, a checkpoint that does not fit: the user can fix it."""


class CheckFailed(Exception):
    """A verification failed (export equivalence, gradients): nothing was written; exit code 1."""
