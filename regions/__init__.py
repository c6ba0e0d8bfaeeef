"""Regional configuration: one folder per region (profile, workflow definitions), read at start-up."""

from pathlib import Path

DEFAULT_REGION_DIR = Path(__file__).parent / "balikpapan"
