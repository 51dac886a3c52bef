"""The bundled offline copy of baolaocai.vn and the small HTTP server that serves it.

Every page under ``site/`` carries synthetic Vietnamese text written for this project;
the markup is modelled on what is known of the real site (see the README). The demo and
the tests share :func:`serve_site`.
"""

from __future__ import annotations

from pathlib import Path

from baolaocai.errors import ConfigError
from sitecopy.server import SITE_DIR, RequestRecord, SiteServer, serve_site

__all__ = ["SITE_DIR", "RequestRecord", "SiteServer", "copy_dir", "serve_site"]


def copy_dir(site_key: str) -> Path:
    """The bundled offline copy of a site."""
    if site_key == "baolaocai":
        return SITE_DIR
    raise ConfigError(f"no bundled offline copy of the site {site_key!r}")
