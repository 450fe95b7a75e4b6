"""``python -m loyaltylab``: the same command line as the ``loyaltylab`` script."""

import sys

from loyaltylab.cli import main

if __name__ == "__main__":
    sys.exit(main())
