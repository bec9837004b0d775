"""The documentation site builds without warnings and stays in step with the code it describes.

- Every ``gevent.…`` name written in backticks resolves (import, then getattr), and so do the
  names the reference pages document in context: a heading naming a module or class sets the
  context, and the first column of a member/function table lists that context's attributes.
  Where a name is written with its parameters, they must be parameters of the real signature,
  in the same order, with the same literal defaults.
- Code blocks marked ``<!-- test -->`` (the line before the fence) run in a fresh interpreter
  and exit 0 within a timeout.
- ``mkdocs build --strict`` is clean.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import os
import pathlib
import re
import subprocess
import sys
import types
from typing import Any

import pytest

from gevent import events
from gevent._config import config

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
REFERENCE = DOCS / "reference"

#: Dotted names the docs mention on purpose although they do not exist here.
ABSENT = {"gevent.libev", "gevent.libuv"}
#: Entry-point group names look like modules; they must be some event's ENTRY_POINT_NAME.
ENTRY_POINT_PREFIX = "gevent.plugins."

#: The marker that makes the next fenced code block a test.
RUN_MARKER = "<!-- test -->"
#: Table headers whose first column names attributes of the current context.
MEMBER_HEADERS = ("Member", "Function", "Factory", "Class")

_FENCE = re.compile(r"^```.*?^```", re.M | re.S)
_SPAN = re.compile(r"`([^`\n]+)`")
_DOTTED = re.compile(r"(?<![\w.])gevent(?:\.[A-Za-z_]\w*)+")
_CALL = re.compile(r"^(?:class\s+)?([A-Za-z_][\w.]*)(?:\((.*)\))?$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


# -- resolving names ---------------------------------------------------------------------------


class Missing(Exception):
    pass


def module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def import_dotted(dotted: str) -> Any:
    """Import the longest module prefix of *dotted*, then getattr the rest."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        name = ".".join(parts[:cut])
        try:
            obj = importlib.import_module(name)
        except ImportError:
            if cut > 1 and module_exists(name):
                return None  # the module exists; an optional extra it needs is not installed
            continue
        return get_path(obj, parts[cut:])
    raise Missing(dotted)


def instance_attributes(cls: type) -> set[str]:
    """Names a class's instances get in ``__init__`` and friends (``self.name = ...``)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        names.update(getattr(klass, "__annotations__", {}))
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        names.update(re.findall(r"\bself\.([A-Za-z_]\w*)\s*(?::[^=\n]*)?=(?!=)", source))
    return names


def get_path(obj: Any, parts: list[str]) -> Any:
    for index, name in enumerate(parts):
        try:
            obj = getattr(obj, name)
        except AttributeError:
            last = index == len(parts) - 1
            if last and isinstance(obj, type) and name in instance_attributes(obj):
                return None  # an instance attribute: exists, nothing more to check
            raise Missing(".".join(parts[: index + 1])) from None
    return obj


def lookup(name: str, contexts: list[Any]) -> Any:
    """Resolve *name* (dotted or not) absolutely or relative to one of *contexts*."""
    if name == "gevent" or name.startswith("gevent."):
        return import_dotted(name)
    for context in contexts:
        try:
            return get_path(context, name.split("."))
        except Missing:
            continue
    raise Missing(name)


# -- signatures --------------------------------------------------------------------------------


def split_params(text: str) -> list[str]:
    """Split a parameter list at top-level commas."""
    params, depth, quote, current = [], 0, "", ""
    for char in text:
        if quote:
            current += char
            if char == quote:
                quote = ""
            continue
        if char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            params.append(current.strip())
            current = ""
            continue
        current += char
    if current.strip():
        params.append(current.strip())
    return params


def check_signature(where: str, name: str, obj: Any, params_text: str) -> list[str]:
    """Each documented parameter exists, in order, with the same literal default."""
    if obj is None or not callable(obj):
        return []
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    real = list(signature.parameters.values())
    kinds = {p.kind for p in real}
    var_positional = inspect.Parameter.VAR_POSITIONAL in kinds
    var_keyword = inspect.Parameter.VAR_KEYWORD in kinds
    if var_positional and var_keyword and len(real) <= 3:
        return []  # a generic (*args, **kwargs) wrapper: nothing to compare
    names = [p.name for p in real]
    errors, last_index = [], -1
    for param in split_params(params_text):
        if param in ("...", "*", "/", "") or param.startswith("..."):
            continue
        if param.startswith("**"):
            if not var_keyword:
                errors.append(f"{where}: {name}({params_text}): no **kwargs in {signature}")
            continue
        if param.startswith("*"):
            if not var_positional:
                errors.append(f"{where}: {name}({params_text}): no *args in {signature}")
            continue
        pname, _, default = param.partition("=")
        pname = pname.split(":")[0].strip()
        if not pname.isidentifier():
            continue
        if pname not in names:
            if not var_keyword:
                errors.append(f"{where}: {name}(): no parameter {pname!r} in {signature}")
            continue
        index = names.index(pname)
        if index < last_index:
            errors.append(f"{where}: {name}(): {pname!r} out of order in {signature}")
        last_index = index
        default = default.strip()
        real_default = signature.parameters[pname].default
        if default and real_default is not inspect.Parameter.empty:
            try:
                documented = ast.literal_eval(default)
            except (ValueError, SyntaxError):
                continue  # a name (GreenletExit, signal.SIGUSR1...): not a literal
            if documented is Ellipsis:
                continue  # "=..." means "some default", left unsaid
            both_numbers = isinstance(documented, (int, float)) and \
                isinstance(real_default, (int, float))
            if documented != real_default or (
                    type(documented) is not type(real_default) and not both_numbers):
                errors.append(f"{where}: {name}(): {pname}={default} but the code has "
                              f"{real_default!r}")
    return errors


# -- walking the pages -------------------------------------------------------------------------


def prose_lines(text: str) -> list[str]:
    """The page's lines with fenced code blocks blanked out (line numbers kept)."""
    return _FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text).split("\n")


def check_span(where: str, span: str, contexts: list[Any]) -> tuple[list[str], Any]:
    """Check one backticked name (with optional parameters); return (errors, object)."""
    match = _CALL.match(span.strip())
    if match is None:
        return [], None
    name, params = match.group(1), match.group(2)
    try:
        obj = lookup(name, contexts)
    except Missing as missing:
        return [f"{where}: `{span}` does not resolve ({missing})"], None
    errors = check_signature(where, name, obj, params) if params is not None else []
    return errors, obj


def check_dotted_references(page: pathlib.Path) -> list[str]:
    errors = []
    for number, line in enumerate(prose_lines(page.read_text()), 1):
        for span in _SPAN.findall(line):
            where = f"{page.relative_to(DOCS)}:{number}"
            call = _CALL.match(span.strip())
            if call and call.group(1).startswith("gevent.") and \
                    call.group(1) not in ABSENT and \
                    not call.group(1).startswith(ENTRY_POINT_PREFIX):
                errors.extend(check_span(where, span, [])[0])
                continue
            for dotted in _DOTTED.findall(span):
                if dotted in ABSENT:
                    try:
                        import_dotted(dotted)
                    except Missing:
                        continue
                    errors.append(f"{where}: {dotted} is documented as absent but exists")
                    continue
                if dotted.startswith(ENTRY_POINT_PREFIX):
                    if dotted not in ENTRY_POINT_GROUPS:
                        errors.append(f"{where}: {dotted} is no event's entry point group")
                    continue
                try:
                    import_dotted(dotted)
                except Missing as missing:
                    errors.append(f"{where}: `{dotted}` does not resolve ({missing})")
    return errors


def check_reference_context(page: pathlib.Path) -> list[str]:
    """Headings set the module/class context; member tables list its attributes."""
    errors: list[str] = []
    stack: list[tuple[int, Any]] = []  # (heading level, object)
    table_checked = False
    lines = prose_lines(page.read_text())
    for number, line in enumerate(lines, 1):
        where = f"{page.relative_to(DOCS)}:{number}"
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            spans = _SPAN.findall(heading.group(2))
            if spans:
                contexts = [obj for _, obj in reversed(stack) if isinstance(obj, types.ModuleType)]
                found, obj = check_span(where, spans[0], contexts)
                errors.extend(found)
                if obj is not None and not found:
                    stack.append((level, obj))
            continue
        if not line.startswith("|"):
            table_checked = False
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        following = lines[number] if number < len(lines) else ""
        if following.startswith("|") and set(following.replace("|", "").strip()) <= set("-: "):
            table_checked = cells[0].startswith(MEMBER_HEADERS)
            continue
        if not table_checked or set(line.replace("|", "").strip()) <= set("-: "):
            continue
        contexts = [obj for _, obj in reversed(stack)]
        for span in _SPAN.findall(cells[0]):
            errors.extend(check_span(where, span, contexts)[0])
    return errors


ENTRY_POINT_GROUPS = {
    group for cls in vars(events).values()
    if isinstance(group := getattr(cls, "ENTRY_POINT_NAME", None), str)
}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_dotted_references_resolve(page):
    errors = check_dotted_references(page)
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("page", sorted(REFERENCE.glob("*.md")), ids=lambda p: p.name)
def test_reference_names_and_signatures(page):
    errors = check_reference_context(page)
    assert not errors, "\n".join(errors)


def test_the_checker_catches_mistakes(tmp_path):
    page = tmp_path / "reference" / "bad.md"
    page.parent.mkdir()
    page.write_text(
        "## `gevent.event`\n\n### `class Event()`\n\n| Member | Meaning |\n|---|---|\n"
        "| `wait(timeout=5)` | wrong default |\n| `no_such_method()` | missing |\n\n"
        "See `gevent.event.Nope` and `gevent.sleep(seconds, bogus)`.\n"
        "\n## `gevent.pywsgi`\n\n### `class WSGIHandler(sock, address, server)`\n\n"
        "| Member | Meaning |\n|---|---|\n| `_prepare_response()` | not ours |\n"
        "| `socket`, `client_address` | instance attributes |\n"
    )
    global DOCS
    saved, DOCS = DOCS, tmp_path
    try:
        errors = check_reference_context(page) + check_dotted_references(page)
    finally:
        DOCS = saved
    text = "\n".join(errors)
    assert "timeout=5" in text
    assert "no_such_method" in text
    assert "gevent.event.Nope" in text
    assert "bogus" in text
    assert "_prepare_response" in text
    assert "client_address" not in text
    assert len(errors) == 5, text


# -- runnable examples -------------------------------------------------------------------------


def runnable_blocks() -> list[tuple[str, str]]:
    blocks = []
    for page in PAGES:
        lines = page.read_text().split("\n")
        for index, line in enumerate(lines):
            if line.strip() != RUN_MARKER:
                continue
            fence = lines[index + 1] if index + 1 < len(lines) else ""
            assert fence.startswith("```python"), f"{page}:{index + 1}: marker before {fence!r}"
            end = lines.index("```", index + 2)
            blocks.append((f"{page.relative_to(DOCS)}:{index + 2}",
                           "\n".join(lines[index + 2:end]) + "\n"))
    return blocks


BLOCKS = runnable_blocks()


def test_the_tutorial_has_runnable_examples():
    assert sum(where.startswith("tutorial.md") for where, _ in BLOCKS) >= 6


@pytest.mark.parametrize("code", [code for _, code in BLOCKS], ids=[w for w, _ in BLOCKS])
def test_marked_example_runs(code, tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src")] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    for key in list(env):
        # gevent settings would change what the example does, and a proxy would be asked
        # for the examples' own 127.0.0.1 servers.
        if key.startswith("GEVENT") or key.lower().endswith("_proxy"):
            del env[key]
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stdout + out.stderr


# -- the site ----------------------------------------------------------------------------------


def test_mkdocs_build_strict(tmp_path):
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed: pip install -e '.[docs]' to build the docs")
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean",
         "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    log = out.stdout + out.stderr
    assert out.returncode == 0, log
    assert "WARNING" not in log, log
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "site" / "reference" / "config" / "index.html").exists()


def nav_pages():
    # mkdocs.yml's nav lines look like "  - Title: path.md"; no YAML parser needed.
    pages = []
    for line in (ROOT / "mkdocs.yml").read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("- ") and stripped.endswith(".md"):
            pages.append(stripped.rsplit(":", 1)[1].strip())
    return pages


def test_every_page_is_in_the_nav():
    listed = set(nav_pages())
    on_disk = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert listed == on_disk


def test_config_page_documents_every_setting():
    text = (DOCS / "reference" / "config.md").read_text()
    for name, setting in config.settings.items():
        assert f"`{name}`" in text, name
        assert f"`{setting.environment_key}`" in text, setting.environment_key


def test_events_page_documents_every_name():
    text = (DOCS / "reference" / "monitoring.md").read_text()
    for name in events.__all__:
        assert f"`{name}" in text, name
    for group in ENTRY_POINT_GROUPS:
        assert group in text, group


def test_util_page_documents_every_name():
    import gevent.util

    text = (DOCS / "reference" / "monitoring.md").read_text()
    for name in gevent.util.__all__:
        assert re.search(rf"`(class )?{name}\b", text), name


def test_design_page_is_the_design():
    text = (DOCS / "design.md").read_text()
    assert text.startswith("# Design")
    for heading in ("## Layers", "## Layout", "## The core loop", "## The hub"):
        assert heading in text


def test_design_layout_lists_every_module():
    """Every module and package under src/gevent appears in the design page's Layout."""
    text = (DOCS / "design.md").read_text()
    layout = text[text.index("## Layout"):text.index("## The core loop")]
    package = ROOT / "src" / "gevent"
    for path in sorted(package.rglob("*.py")):
        if path.name in ("__init__.py", "__main__.py") and path.parent != package:
            continue
        assert path.name in layout, path.relative_to(package)
    for directory in sorted(package.iterdir()):
        if directory.is_dir() and directory.name != "__pycache__":
            assert f"{directory.name}/" in layout, directory.name


def test_readme_starts_with_make_run_then_make_test():
    readme = (ROOT / "README.md").read_text()
    commands = re.search(r"```\n(.*?)```", readme, re.S).group(1).split("\n")
    assert commands[0].startswith("make run")
    assert commands[1].startswith("make test")
