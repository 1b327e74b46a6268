"""The seeded world (tests/security/world.py) for modules that share one per backend."""

from __future__ import annotations

import pytest

from tests.conftest import BACKENDS, PG_URL
from tests.security.world import open_world


@pytest.fixture(scope="module", params=BACKENDS)
def built_world(request, tmp_path_factory):
    name = request.module.__name__.rsplit(".", 1)[-1]
    built = open_world(request.param, tmp_path_factory.mktemp(f"{name}-{request.param}"), PG_URL)
    yield built
    built.close()


@pytest.fixture
def world(built_world):
    """The module's world, put back as built after each test, however it ended."""
    yield built_world
    if built_world.changed():
        built_world.reset()
