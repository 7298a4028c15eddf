"""The README's first admin CLI example runs as it is on a fresh database, line by line, with the
installed `coachbot` script (bash, GNU date)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def first_cli_example() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## The admin CLI") :]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_the_readme_cli_example_runs_after_seed_demo(tmp_path):
    script = first_cli_example()
    assert "coachbot seed-demo" in script and "coachbot book" in script
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/var/readme.db",
    }
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert '"slack_user_id": "U012AB3CD"' in done.stdout
    assert "/coach link" in done.stdout
