"""CLI subcommands that live outside ``cli.py`` (each registered there with one line)."""
