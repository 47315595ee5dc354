"""``python -m node`` runs the ``mesh-art`` command."""

import sys

from node.cli import main

sys.exit(main())
