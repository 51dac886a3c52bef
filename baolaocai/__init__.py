"""Báo Lào Cai archive: polite scraper and ETL pipeline into DuckDB.

Layers (data flows one way):

    cli / flows                   compose; every knob is a parameter
    scrapers  transforms  warehouse   the rooms; none imports another's internals
    baolaocai.{models,settings,errors}   the floor everything stands on
"""

from __future__ import annotations

__version__ = "0.1.0"
