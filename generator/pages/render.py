"""The names the commands (check, compile) import from the page families, under their former
module. New code imports from ``generator.pages`` and its modules directly."""

from __future__ import annotations

from generator.pages import pages
from generator.pages.base import PageJob, group_by_company
from generator.pages.view import SiteView

__all__ = ["PageJob", "SiteView", "group_by_company", "pages"]
