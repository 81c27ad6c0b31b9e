import os
import sys
from pathlib import Path

# Make `tolerances` importable from every test module.
sys.path.insert(0, str(Path(__file__).parent))

from hypothesis import settings  # noqa: E402

# CI runs the same examples every time; locally hypothesis explores (and remembers failures).
settings.register_profile("ci", derandomize=True, database=None)
settings.load_profile("ci" if os.environ.get("CI") else "default")
