"""The content kinds: profile, report, pledge and page, each declared once in its module.

A kind's module holds its model class, a frozen dataclass whose fields declare the source
fields (``dataclasses.field(metadata=fields.front(checker, required=..., doc=...))``; the
fields every kind shares are declared on ``item.Item``), and its ``Kind``: folder, order of
items, attributes derived from others, how the build treats it. ``registry.BUILT_IN`` lists
the kinds; everything else (loader, model, URLs, search, ``showcase new``, the docs' field
reference) iterates a registry.

A new kind: a module here added to ``BUILT_IN`` (its ``Kind`` names the visitors' ``label``),
its detail template ``<kind>.html`` in the theme, its label in the theme's ``i18n/`` files, and
its editor catalog entries (``cli-new-<kind>``, ``new-scaffold-<kind>``,
``new-field-<kind>-<field>``, ``new-file-exists-<kind>``); the tests list what is missing.
A new field: one declaration on the model class, plus its ``new-field-<kind>-<field>``
wording; then ``python3 -m generator.cli.docs`` rewrites the field reference.
"""
