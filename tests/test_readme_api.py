"""The README's Python example of tracking one's own detections runs and prints what it says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Your own detections"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {})
    expected = re.search(r"# (\d+ confirmed tracks at [\d.]+ s)", code).group(1)
    assert printed.getvalue().strip() == expected
