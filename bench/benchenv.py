"""What both benchmarks set before Django starts."""

import os
from pathlib import Path


def production_env(var_dir: Path, **extra: str) -> None:
    """Production settings (DEBUG off: Django keeps no query's SQL in memory, templates carry
    no debug information), with throwaway secrets and files under `var_dir`."""
    os.environ.update(
        DEBUG="0",
        SECRET_KEY="bench-" + "k" * 50,
        CREDENTIAL_ENCRYPTION_KEYS="bXVzdC1iZS0zMi11cmwtc2FmZS1iYXNlNjQtYnl0ZXM=",
        LOG_LEVEL="WARNING",
        GENBOARD_VAR_DIR=str(var_dir),
        **extra,
    )
