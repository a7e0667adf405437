import sys

from gunmane.cli import main

sys.exit(main())
