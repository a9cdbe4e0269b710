"""A clock set ahead, for builds that must not depend on the day they run.

`later_env(env, days)` returns an environment whose Python processes start with
this file's folder's `sitecustomize` (tests/clock_site/): `time.time` and the
build date MkDocs reads (`mkdocs.utils.datetime.now`) run `days` ahead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

SITE = Path(__file__).resolve().parent / "clock_site"
SHIFT_ENV = "SSS_TEST_CLOCK_AHEAD_DAYS"


def later_class(days: float) -> type[datetime]:
    class Later(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(days=days)

    return Later


def later_env(env: dict[str, str], days: float) -> dict[str, str]:
    return {**env, "PYTHONPATH": str(SITE), SHIFT_ENV: str(days)}
