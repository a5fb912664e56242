"""natsfn Python worker entry point: `python3 -u bootstrap.py`, started by the sidecar.

Kept to a few lines because the script Python runs is compiled on every start; the bootstrap
itself lives in natsfn_bootstrap, whose bytecode the build precompiles next to it.
"""

import sys

# Before any other import: Python must write no __pycache__ beside the runtime (it may ship
# read-only) nor into packages (the package cache is keyed by digest).
sys.dont_write_bytecode = True

import natsfn_bootstrap  # noqa: E402

sys.exit(natsfn_bootstrap.main())
