"""/readyz names each dependency: a reachable database, migrations at head (core and every
plugin branch), Redis when limits are counted there. Anything wrong is a 503 with Retry-After
and a JSON body saying what; /healthz (liveness) never touches a dependency."""

from __future__ import annotations

import pytest


def test_ready_lists_each_check(client):
    response = client.get("/readyz")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] and body["checks"]["migrations"]["ok"]
    assert "redis" not in body["checks"]  # memory:// limits need no Redis


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_unmigrated_database_is_not_ready(make_app, tmp_path):
    """It used to say ok while log-in answered 500."""
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.headers["Retry-After"]
    check = response.get_json()["checks"]["migrations"]
    assert check["ok"] is False and "portal db upgrade" in check["detail"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_database_behind_the_code_is_not_ready(make_app, database_url):
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0003_rollcall_and_provider_staff' "
                                "WHERE version_num LIKE '0%'"))
    engine.dispose()
    body = make_app().test_client().get("/readyz").get_json()
    assert body["checks"]["migrations"]["ok"] is False
    assert "0003_rollcall_and_provider_staff" in body["checks"]["migrations"]["detail"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_unreachable_database_is_named(app_config):
    from portal import create_app

    app = create_app({**app_config, "DATABASE_URL": "postgresql+psycopg://portal@127.0.0.1:1/portal?connect_timeout=2"})
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"]["detail"].startswith("unreachable")
    assert client.get("/healthz").status_code == 200
    app.extensions["portal"].database.dispose()
