"""`python -m local`: run the local stack until Ctrl-C."""

from local.stack import main

main()
