"""What ``showcase import`` reads, turned into values for new content files; nothing here
writes (the command, ``cli/import_word.py`` and ``cli/import_roster.py``, writes the files with
the rules of ``showcase new``).

- ``word``: a Word document (.docx) to Markdown with mammoth, its pictures kept;
  ``docxfile``: the checks of the file itself, and what converts with a loss, by paragraph;
  ``infer``: the front matter values the document's text gives.
- ``roster``: an honour roster (.xlsx or .csv) as rows under its header; ``people``: those rows
  checked and merged into the people to create.
- ``units``: unit names matched against units.yaml; ``problems``: notes as catalog codes.
"""
