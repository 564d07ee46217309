"""`python -m fmipdissect SUBCOMMAND` = `fmipdissect SUBCOMMAND`."""
import sys

from .cli import main

sys.exit(main())
