"""Wheel build hook: bake the site's public address into the checker, so an
installed ``sss-checker`` prints clickable links.

Set ``SSS_CHECKER_SITE_URL`` when building the wheel (``./run wheel
--site-url URL`` does); without it the wheel carries no address and finding
links stay relative to the site's root.
"""

from __future__ import annotations

import os
import tempfile
from urllib.parse import urlsplit

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

ENV = "SSS_CHECKER_SITE_URL"


class SiteURLHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version, build_data):
        url = os.environ.get(ENV, "").strip()
        if not url:
            return
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"{ENV}={url!r}: expected an absolute http(s) address such as https://example.org/sss/")
        url = url if url.endswith("/") else url + "/"
        handle, path = tempfile.mkstemp(suffix=".py", prefix="sss-site-")
        with os.fdopen(handle, "w", encoding="utf-8") as fh:
            fh.write('"""Generated when the wheel was built: the site\'s public address."""\n'
                     f"SITE_URL = {url!r}\n")
        self._generated = path
        build_data["force_include"][path] = "checker/_site.py"

    def finalize(self, version, build_data, artifact_path):
        path = getattr(self, "_generated", None)
        if path and os.path.exists(path):
            os.unlink(path)
