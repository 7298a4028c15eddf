"""`python -m bot.cli`, the same as the `coachbot` script."""

from bot.cli import main

main()
