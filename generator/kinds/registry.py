"""The built-in content kinds, in the order the site lists them."""

from __future__ import annotations

from generator.kinds import page, pledge, profile, report
from generator.kinds.kind import Registry

BUILT_IN = Registry((profile.KIND, report.KIND, pledge.KIND, page.KIND))
