"""Cold start: the time to import ``app`` in a fresh process, beside a bare Chalice + boto3 app.

Both are measured in the same run (best of N fresh interpreters each), so the ratio holds on any
machine. Then the heaviest imports of ``app`` by cumulative time (``python -X importtime``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE_APP = """from chalice import Chalice
import boto3

app = Chalice(app_name="bare")


@app.route("/")
def index():
    return {"hello": "world"}
"""
TIMED_IMPORT = "import time; t = time.perf_counter(); import app; print(time.perf_counter() - t)"
GOAL = 1.3


def import_time(directory: Path, runs: int) -> float:
    return min(
        float(subprocess.run([sys.executable, "-c", TIMED_IMPORT], cwd=directory, capture_output=True, text=True, check=True).stdout)
        for _ in range(runs)
    )


def top_imports(count: int) -> list[tuple[int, str]]:
    """(cumulative µs, module) of the slowest imports under ``import app``."""
    stderr = subprocess.run([sys.executable, "-X", "importtime", "-c", "import app"], cwd=ROOT, capture_output=True, text=True, check=True).stderr
    rows = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = line.removeprefix("import time:").split("|")
            rows.append((int(cumulative), name.rstrip()))
    return sorted(rows, reverse=True)[:count]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench coldstart")
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per app (best is kept)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "app.py").write_text(BARE_APP)
        bare = import_time(Path(tmp), args.runs)
    ours = import_time(ROOT, args.runs)
    ratio = ours / bare
    print(f"import app, best of {args.runs} fresh processes")
    print(f"  bare Chalice + boto3 app  {bare * 1000:7.1f} ms")
    print(f"  mon-espace-sante app      {ours * 1000:7.1f} ms")
    print(f"  ratio                     {ratio:7.2f}×  (goal ≤ {GOAL}×: {'met' if ratio <= GOAL else 'NOT met'})")
    print("\nslowest imports under `import app` (cumulative, one cold run of -X importtime)")
    for micros, name in top_imports(10):
        print(f"  {micros / 1000:7.1f} ms  {name}")


if __name__ == "__main__":
    main(sys.argv[1:])
