"""Theme, Markdown, images, cache, workers, fingerprints and the writer."""
