"""`python -m govwatch` runs the CLI."""

from govwatch.cli import main

main()
