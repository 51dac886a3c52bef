"""The bundled offline copies of the sites and the small HTTP server that serves them.

Every page under ``site/`` (baolaocai.vn) carries synthetic Vietnamese text written for
this project; the markup is modelled on what is known of the real site (see the README).
``sites/<key>/`` holds generated copies of other papers on the same CMS (``nuimay``, an
invented sister paper; regenerate with ``python -m sitecopy.generate --paper nuimay
--out sitecopy/sites/nuimay``). :func:`copy_dir` finds a site's copy by its key. The demo
and the tests share :func:`serve_site`. ``changes/<key>.toml`` describes a copy a few
days later (an article edited, one taken down), served over it by the same server
(:mod:`sitecopy.overlay`): the demo's second pass.
"""

from __future__ import annotations

from sitecopy.server import (
    SITE_DIR,
    SITES_DIR,
    RequestRecord,
    SiteServer,
    bundled_copies,
    copy_dir,
    serve_site,
)

__all__ = [
    "SITES_DIR",
    "SITE_DIR",
    "RequestRecord",
    "SiteServer",
    "bundled_copies",
    "copy_dir",
    "serve_site",
]
