"""`python -m socialcredit.cli`: the same as `scs`."""

from socialcredit.cli import main

main()
