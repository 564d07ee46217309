"""`python -m fmipdissect.lint` = `fmip-lint`."""
import sys

from ..cli import lint_main

sys.exit(lint_main())
