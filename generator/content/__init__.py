"""Reading the source: files -> SourceDocs, front matter, the field vocabulary, git dates."""
