"""What ``showcase import`` reads: Word documents (``word``, with ``docxfile`` for the checks
of the file itself) and honour rosters (``roster``), turned into values for new content
files; names of units matched against units.yaml (``units``). Nothing here writes: the
command (``cli/imports.py``) writes the files with the rules of ``showcase new``."""
