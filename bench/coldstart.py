"""Cold start: the time to import ``app`` in a fresh process, beside a bare Chalice + boto3 app.

Both are measured in the same run (best of N fresh interpreters each, interleaved), so the ratio
holds on any machine. Then the heaviest imports of ``app`` by cumulative time and what it imports
beyond the bare app (``python -X importtime``, whose own overhead inflates its figures).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections import Counter
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
# The first request a cold container serves: import, then one validated call. Ours loads pydantic
# and the module's models and service there (they are lazy); the bare app has nothing to load.
FIRST_REQUEST = """import time, json
t = time.perf_counter()
import app
from chalice.test import Client
with Client(app.app) as client:
    client.http.post({path!r}, headers={{"Content-Type": "application/json"}}, body=json.dumps({{"code": 1}}))
print(time.perf_counter() - t)
"""
GOAL = 1.3


def import_time(directory: Path, script: str = TIMED_IMPORT) -> float:
    run = subprocess.run([sys.executable, "-c", script], cwd=directory, capture_output=True, text=True, check=True)
    return float(run.stdout.splitlines()[-1])


def import_profile(directory: Path) -> list[tuple[int, int, str]]:
    """(self µs, cumulative µs, module) of every module ``import app`` loads (-X importtime)."""
    stderr = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import app"], cwd=directory, capture_output=True, text=True, check=True
    ).stderr
    rows = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "cumulative" not in line:
            own, cumulative, name = line.removeprefix("import time:").split("|")
            rows.append((int(own), int(cumulative), name.rstrip()))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench coldstart")
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per app (best is kept)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "app.py").write_text(BARE_APP)
        # Interleaved, so a burst of load on the machine hits both apps alike.
        times = [(import_time(Path(tmp)), import_time(ROOT)) for _ in range(args.runs)]
        first = [
            (import_time(Path(tmp), FIRST_REQUEST.format(path="/")), import_time(ROOT, FIRST_REQUEST.format(path="/v1/enrolment/activate")))
            for _ in range(args.runs)
        ]
        bare_modules = {name.strip() for _, _, name in import_profile(Path(tmp))}
    bare, ours = (min(column) for column in zip(*times))
    profile = import_profile(ROOT)
    ratio = ours / bare
    print(f"import app, best of {args.runs} fresh processes")
    print(f"  bare Chalice + boto3 app  {bare * 1000:7.1f} ms")
    print(f"  mon-espace-sante app      {ours * 1000:7.1f} ms")
    print(f"  ratio                     {ratio:7.2f}×  (goal ≤ {GOAL}×: {'met' if ratio <= GOAL else 'NOT met'})")
    bare_first, ours_first = (min(column) for column in zip(*first))
    print("import + first request (ours: POST /v1/enrolment/activate, rejected by validation, no AWS call)")
    print(f"  bare Chalice + boto3 app  {bare_first * 1000:7.1f} ms")
    print(f"  mon-espace-sante app      {ours_first * 1000:7.1f} ms")
    print(f"  ratio                     {ours_first / bare_first:7.2f}×")
    print("\nslowest imports under `import app` (cumulative; -X importtime, one run)")
    for _, micros, name in sorted(profile, key=lambda row: -row[1])[:10]:
        print(f"  {micros / 1000:7.1f} ms  {name}")
    extra: Counter = Counter()
    for micros, _, name in profile:
        if name.strip() not in bare_modules:
            extra[name.strip().split(".")[0]] += micros
    print("\nwhat the bare app does not import, by top-level package (self time, same run)")
    for package, micros in extra.most_common(8):
        print(f"  {micros / 1000:7.1f} ms  {package}")


if __name__ == "__main__":
    main(sys.argv[1:])
