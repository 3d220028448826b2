"""Attack reproductions (issue 12): each file one area; every test asserts the fixed behaviour."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # cli_support, speech, … live one level up
