"""Page families: each yields pages with a path, a template and a read-only view."""
