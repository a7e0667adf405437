"""`python -m gunmane.cli`: the same as `python -m gunmane` and the `gunmane` command."""

import sys

from gunmane.cli import main

sys.exit(main())
