"""Typed, user-readable errors of the serving launcher."""

from __future__ import annotations

from flowdeck.core.errors import FlowdeckError


class ServingError(FlowdeckError):
    """A model cannot be served as asked; the message says why in plain words."""


class ModelNotServable(ServingError):
    """The model URI names nothing servable, or its files hold no MLmodel."""


class PortInUse(ServingError):
    """The chosen port is taken by another program."""


class RemoteHostRefused(ServingError):
    """A non-loopback host was chosen without the explicit ``allow_remote`` consent."""
