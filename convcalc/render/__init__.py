"""Renderers: Report -> Rich renderable or string. They never print."""

from __future__ import annotations

from enum import Enum


class OutputFormat(str, Enum):
    """The output formats of every command."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
