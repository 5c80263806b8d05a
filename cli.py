"""oryx-eval command line (placeholder until the harness core lands)."""


def main() -> None:
    """Entry point."""
    raise SystemExit("oryx-eval: CLI under construction")
