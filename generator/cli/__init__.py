"""The command line: parser, console output and one module per command."""
