"""Fixtures for the ATS adapter contract suite (the rigs and vendor profiles live in ats_rig.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from ats_rig import HandClock, VendorRig, WebhookReceiver, open_rig, webhook_receiver

from core.vocabulary import Vendor


@pytest.fixture(params=list(Vendor), ids=lambda v: v.value)
def rig(request: pytest.FixtureRequest) -> Iterator[VendorRig]:
    """Yield a started emulator + adapter factory for each vendor that has a contract profile."""
    yield from open_rig(request.param)


@pytest.fixture
def make_rig() -> Iterator[Callable[..., VendorRig]]:
    """Return a factory for rigs with custom emulator arguments (vendor-specific tests)."""
    stack: list[Iterator[VendorRig]] = []

    def make(vendor: Vendor, **emulator_kwargs: Any) -> VendorRig:
        generator = open_rig(vendor, **emulator_kwargs)
        stack.append(generator)
        return next(generator)

    yield make
    for generator in stack:
        generator.close()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """Yield a loopback webhook receiver that answers 200 to every delivery (ats_rig.webhook_receiver)."""
    with webhook_receiver() as running:
        yield running


@pytest.fixture
def clock() -> HandClock:
    """Return a clock the test moves by hand (`clock.at += seconds`)."""
    return HandClock()
