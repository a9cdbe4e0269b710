"""Started by tests/clock.py's environment: set the clock ahead (see there)."""

import os
import time
from datetime import datetime, timedelta

_days = float(os.environ.get("SSS_TEST_CLOCK_AHEAD_DAYS", "0"))
if _days:
    _real_time, _real_ns = time.time, time.time_ns
    time.time = lambda: _real_time() + _days * 86400
    time.time_ns = lambda: _real_ns() + int(_days * 86400 * 10**9)
    try:
        import mkdocs.utils
    except ImportError:  # a process without MkDocs (the wheel's build) reads only time.time
        pass
    else:
        class _Later(datetime):
            @classmethod
            def now(cls, tz=None):
                return datetime.now(tz) + timedelta(days=_days)

        mkdocs.utils.datetime = _Later
