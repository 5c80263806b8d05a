"""CLI subcommands defined outside cli.py (each registered there with one line)."""
