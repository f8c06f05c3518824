"""The exceptions locus raises in Python.

Each C++ exception type of ``locus::envs`` (envs/errors.hpp) arrives as the class of the same
name here; so do those of ``locus::neuromod``, ``locus::bench`` and ``locus::agents`` (their
InvalidArgumentError and agents' ConfigError as InvalidArgumentError). Each class derives from Gymnasium's matching error and, where one fits, from the
builtin exception a Python user would catch, so ``except ValueError`` and
``except gymnasium.error.InvalidAction`` both catch a bad action.
"""

from __future__ import annotations

import gymnasium.error


class Error(gymnasium.error.Error):
    """Base of every locus error (C++ ``locus::envs::Error``)."""


class UnknownEnvError(gymnasium.error.NameNotFound, Error):
    """An environment id that is not registered or is malformed; the message lists close matches."""


class RegistrationError(gymnasium.error.RegistrationError, Error):
    """An id registered twice, or a registration with inconsistent arguments."""


class InvalidActionError(gymnasium.error.InvalidAction, Error, ValueError):
    """An action outside the action space, or of the wrong type, dtype or shape."""


class ResetNeededError(gymnasium.error.ResetNeeded, Error, RuntimeError):
    """``step()`` before ``reset()``, or stepping an ended env with autoreset disabled."""


class InvalidArgumentError(Error, ValueError):
    """Bad keyword arguments, reset options, seeds or other arguments."""


class BufferError(Error, ValueError):  # noqa: A001 - the name of the C++ type it stands for
    """A buffer or value that does not fit a space's layout (C++ ``locus::envs::BufferError``)."""


class PluginError(Error, ImportError):
    """A plugin library that cannot be loaded or registers nothing."""


class CheckError(Error, AssertionError):
    """The env checker found a violation of the API contract."""


class ShapeError(Error, ValueError):
    """A batch or parameter whose shape does not fit the network (C++ ``neuromod::ShapeError``)."""


class ContextError(Error, ValueError):
    """A context id that does not exist, or a shared parameter asked for with a context."""


class NonFiniteError(Error, ValueError):
    """NaN or infinity in a network's inputs or in values written to it."""


class DeviceError(Error, RuntimeError):
    """A GPU that is missing or failing (the CUDA backend)."""


class CheckpointError(Error, OSError):
    """A checkpoint that is missing, truncated, corrupt or written for another network."""


class SweepStateError(Error, RuntimeError):
    """A sweep directory that cannot be used: unreadable, or written by a different config."""


class RunDirectoryError(Error, OSError):
    """A training run's directory that holds another run, or no run to resume or evaluate."""


class TrainingError(Error, ArithmeticError):
    """A loss, advantage or parameter that became NaN or infinite while an agent trained."""


class RunInterrupted(Error, RuntimeError):
    """A training run stopped early on request (Ctrl-C), every agent at a checkpoint: resumable."""


__all__ = [
    "Error",
    "UnknownEnvError",
    "RegistrationError",
    "InvalidActionError",
    "ResetNeededError",
    "InvalidArgumentError",
    "BufferError",
    "PluginError",
    "CheckError",
    "ShapeError",
    "ContextError",
    "NonFiniteError",
    "DeviceError",
    "CheckpointError",
    "SweepStateError",
    "RunDirectoryError",
    "TrainingError",
    "RunInterrupted",
]
