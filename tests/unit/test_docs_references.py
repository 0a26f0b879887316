"""Every file a comment, a docstring or a markdown page names is in the repository.

A citation of a file that is not here (a design note kept elsewhere, a module since moved) sends
the reader nowhere: cite docs/ or the law instead. Paths are found in *.py comments and docstrings
and in *.md files: words ending in a file extension, and words with a slash whose first folder is
one of the repository's and which end with one (``infra/statemachines/``). A path resolves from the
repository's root, from the citing file's folder or from ``chalicelib/`` (modules cite each
other's files as ``documents/xdm.py``); a bare file name resolves when a file of that name exists.
"""

from __future__ import annotations

import ast
import io
import os
import re
import subprocess
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXTENSIONS = ("md", "py", "json", "yaml", "yml", "txt", "toml", "ini", "cfg", "sh")
URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+")
SECTION = re.compile(r"([\w/.-]+\.md)\)? § ([^)\n;:,.]+)")  # docs/api.md § Tokens, [api.md](api.md) § Tokens
WORD = re.compile(r"/?[\w.<>{}*\[\]-]+(?:/[\w.<>{}*\[\]-]+)*/?")

# Named, never kept in the repository, each for a reason.
NOT_IN_THE_REPOSITORY = {
    "build/": "build outputs: make package, make lint, the browser tests' screenshots",
    "chalicelib/platform/openapi.json": "written into the package by infra/package.py, removed afterwards",
}


def repository_files() -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],  # noqa: S607 - the git on PATH
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\n")
    return {name for name in listed if name and (ROOT / name).exists()}


FILES = repository_files()
FOLDERS = {str(Path(name).parent) for name in FILES} | {"."}
TOP_FOLDERS = {name.split("/")[0] for name in FILES if "/" in name} | {
    folder for folder in (p.name for p in (ROOT / "chalicelib").iterdir()) if (ROOT / "chalicelib" / folder).is_dir()
}
BASENAMES = {Path(name).name for name in FILES}


def python_commentary(source: str) -> list[tuple[int, str]]:
    """(line, text) of each comment and docstring of a Python file."""
    found = []
    # A comment is the end of a line from one of its '#': with no path cited after a line's first
    # '#', the file's comments cite none, and the (slow, pure-Python) tokenizer is not needed.
    if any(cited_paths(line[line.index("#") :]) for line in source.splitlines() if "#" in line):
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                found.append((token.start[0], token.string))
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                found.append((body[0].lineno, body[0].value.value))
    return found


def cited_paths(text: str) -> list[str]:
    words = WORD.findall(URL.sub(" ", text))
    paths = []
    for word in words:
        word = word.rstrip(".").strip("-")
        if not word or word.startswith("/"):  # a route (/v1/...), not a file
            continue
        named_file = os.path.splitext(word.rstrip("/"))[1][1:] in EXTENSIONS  # not a bare ".py" (as Path.suffix)
        a_folder = word.endswith("/") and word.split("/")[0] in TOP_FOLDERS
        if named_file or a_folder:
            paths.append(word)
    return paths


def resolve(path: str, citing: Path) -> Path | None:
    folder = citing.parent.relative_to(ROOT)
    for base in (Path("."), folder, Path("chalicelib")):
        candidate = os.path.normpath(base / path)
        if candidate in FILES:
            return ROOT / candidate
    return None


def headings(page: Path) -> list[str]:
    return [line.lstrip("#").strip() for line in page.read_text(encoding="utf-8").splitlines() if line.startswith("#")]


def exists(path: str, citing: Path) -> bool:
    if any(mark in path for mark in "<>{}*[]"):  # a pattern: portal/config/<stage>.json, statemachines/*.asl.json
        return True
    if any(path == name or path.startswith(name) for name in NOT_IN_THE_REPOSITORY):
        return True
    bare = path.rstrip("/")
    if "/" not in bare:
        return bare in BASENAMES or bare in FOLDERS or bare in TOP_FOLDERS
    folder = citing.parent.relative_to(ROOT)
    for base in (Path("."), folder, Path("chalicelib")):
        candidate = os.path.normpath(base / bare)
        if candidate in FILES or candidate in FOLDERS:
            return True
    return False


def commentary(path: Path) -> list[tuple[int, str]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        return python_commentary(text)
    return list(enumerate(text.splitlines(), 1))


def missing_sections(text: str, citing: Path) -> list[str]:
    """Cited sections (``docs/<page>.md § <section>``) the page has no heading for."""
    missing = []
    for page, section in SECTION.findall(text):
        resolved, section = resolve(page, citing), section.strip()
        if not resolved or not section:
            continue
        if not any(heading.startswith(section) or section.startswith(heading) for heading in headings(resolved)):
            missing.append(f"{page} § {section}")
    return missing


def missing_references() -> list[str]:
    missing = []
    for name in sorted(FILES):
        if not name.endswith((".py", ".md")):
            continue
        path = ROOT / name
        for line, text in commentary(path):
            for cited in cited_paths(text):
                if not exists(cited, path):
                    missing.append(f"{name}:{line}: {cited}")
            missing += [f"{name}:{line}: {cited}" for cited in missing_sections(text, path)]
    return missing


def test_comments_docstrings_and_pages_name_only_files_of_the_repository():
    missing = missing_references()
    assert not missing, "no such file or section in the repository (cite docs/ or the law):\n" + "\n".join(missing)


def test_the_finder_sees_a_missing_file_and_lets_patterns_and_urls_be():
    text = "(API.md § Agenda) see core/policy/gate.py and https://example.org/a/b.md"
    assert cited_paths(text) == ["API.md", "core/policy/gate.py"]
    citing = ROOT / "chalicelib" / "documents" / "service.py"
    assert not exists("API.md", citing)
    assert exists("core/policy/gate.py", citing) and exists("infra/statemachines/*.asl.json", citing)
    assert not exists("core/no_such_module.py", citing)
    assert missing_sections("docs/api.md § Tokens; docs/api.md § No such section)", citing) == [
        "docs/api.md § No such section"
    ]
