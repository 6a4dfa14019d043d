"""Lines of the eBay and Shopify plugins at two commits: what the plugin SDK saves.

``python -m bench.plugin_lines [--before 8b2e31e] [--after HEAD] [--json]`` prints, for each
plugin, its product code and its sandbox at both commits (docs/plugins.md, "What the SDK saves:
eBay and Shopify before and after"). Files are read from git (``git ls-tree``, ``git show``),
never from the work tree, so uncommitted edits do not count.

- Product code: the ``.py`` files of the plugin's package outside ``sandbox/``, ``spec/`` and
  ``tests/``; sandbox: the ``.py`` files under ``sandbox/``. A line is a line of the file, as
  ``wc -l`` counts them (blank lines, comments and docstrings included).
- Like for like: the after commit without what implements features added since the before
  commit (:data:`NEW_FEATURES`), so that the two counts do the same work. A feature is a whole
  file, or a top-level definition (``CANCEL_REASONS``) or a class member
  (``EbayChannel.cancel_order``, a config field ``EbayConfig.ru_name``); a definition's lines
  are its ``ast`` node's span with its decorators and the comment lines right above it. A
  listed feature missing at the after commit is an error: the list must follow the code.
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The last commit before the plugins moved onto the toolkit.
BEFORE = "8b2e31e"
#: Each plugin's package folder.
PLUGINS = {"eBay": "plugins/channels/ebay/ordersync_ebay",
           "Shopify": "plugins/stores/shopify/ordersync_shopify"}
#: Folders of the package that are not product code (the sandbox is counted on its own).
NOT_PRODUCT = ("sandbox/", "spec/", "tests/")
WHOLE = None

#: Features added since :data:`BEFORE`, by plugin and file (relative to the package): the whole
#: file, or its definitions. Left out of the like-for-like count of the after commit.
NEW_FEATURES: dict[str, dict[str, tuple[str, ...] | None]] = {
    "eBay": {
        # Marketplace Account Deletion notices.
        "account_deletion.py": WHOLE,
        # ``ordersync auth`` (consent and code grant) and ``ordersync doctor``.
        "consent.py": WHOLE,
        "diagnose.py": WHOLE,
        "config.py": ("AccountDeletionConfig", "EbayConfig.ru_name", "EbayConfig.auth_base",
                      "EbayConfig.account_deletion"),
        # Store-side cancellations and refunds (Post-Order and Fulfillment APIs), and the hooks
        # of account deletion, authorization and doctor.
        "channel.py": ("CANCELLATION", "CANCEL_REASONS", "CANNOT_FULFIL",
                       "EbayChannel.cancel_order", "EbayChannel.refund",
                       "EbayChannel.account_deletion", "EbayChannel.webhook_challenge",
                       "EbayChannel.authorization", "EbayChannel.diagnose"),
    },
    "Shopify": {
        # ``ordersync auth`` (the app's code grant) and ``ordersync doctor``.
        "oauth.py": WHOLE,
        "diagnose.py": WHOLE,
        "store.py": ("SCOPES", "ShopifyConfig.client_id", "ShopifyConfig.scopes",
                     "ShopifyConfig._a_credential", "ShopifyStore.authorization",
                     "ShopifyStore.diagnose"),
        # Refunds with amounts, and the seller's cancellations read from Shopify.
        "mapping.py": ("refunds", "CANCEL_NOTE", "CANCEL_REASONS"),
    },
}


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout


def python_files(commit: str, package: str) -> list[str]:
    """The ``.py`` files under ``package`` at ``commit``, relative to it."""
    names = git("ls-tree", "-r", "--name-only", commit, "--", package).splitlines()
    return sorted(name.removeprefix(package + "/") for name in names if name.endswith(".py"))


def source(commit: str, package: str, name: str) -> str:
    return git("show", f"{commit}:{package}/{name}")


def line_count(text: str) -> int:
    """Lines as ``wc -l`` counts them (newline characters)."""
    return text.count("\n")


def _name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    if (isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)):
        return node.targets[0].id
    return None


def definitions(text: str) -> dict[str, tuple[int, int]]:
    """Top-level definitions and class members by dotted name -> (first, last) line, 1-based,
    with decorators and the comment lines right above."""
    lines = text.splitlines()
    out: dict[str, tuple[int, int]] = {}

    def span(node: ast.stmt) -> tuple[int, int]:
        decorators = getattr(node, "decorator_list", [])
        first = min([node.lineno, *(d.lineno for d in decorators)])
        while first > 1 and lines[first - 2].strip().startswith("#"):
            first -= 1
        assert node.end_lineno is not None
        return first, node.end_lineno

    for node in ast.parse(text).body:
        name = _name(node)
        if name is None:
            continue
        out[name] = span(node)
        if isinstance(node, ast.ClassDef):
            for member in node.body:
                inner = _name(member)
                if inner is not None:
                    out[f"{name}.{inner}"] = span(member)
    return out


@dataclass(frozen=True)
class Count:
    product: int
    sandbox: int
    #: Product code without :data:`NEW_FEATURES` (the after commit only).
    like_for_like: int | None = None


def count(commit: str, plugin: str, *, leave_out: bool) -> Count:
    package = PLUGINS[plugin]
    features = NEW_FEATURES[plugin] if leave_out else {}
    product = sandbox = left_out = 0
    for name in python_files(commit, package):
        if name.startswith(("spec/", "tests/")):
            continue
        lines = line_count(source(commit, package, name))
        if name.startswith("sandbox/"):
            sandbox += lines
            continue
        product += lines
        if name not in features:
            continue
        symbols = features[name]
        if symbols is WHOLE:
            left_out += lines
            continue
        found = definitions(source(commit, package, name))
        missing = [symbol for symbol in symbols if symbol not in found]
        if missing:
            msg = f"{plugin} {name} at {commit} has no {', '.join(missing)}: update NEW_FEATURES"
            raise SystemExit(msg)
        covered = {line for symbol in symbols
                   for line in range(found[symbol][0], found[symbol][1] + 1)}
        left_out += len(covered)
    missing_files = [name for name in features
                     if name not in python_files(commit, package)]
    if missing_files:
        msg = f"{plugin} at {commit} has no {', '.join(missing_files)}: update NEW_FEATURES"
        raise SystemExit(msg)
    return Count(product, sandbox, product - left_out if leave_out else None)


def change(before: int, after: int) -> str:
    return f"{(after - before) / before:+.0%}".replace("-", "\u2212")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.plugin_lines",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default=BEFORE)
    parser.add_argument("--after", default="HEAD")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    args = parser.parse_args(argv)
    after_commit = git("rev-parse", "--short", args.after).strip()
    report = {}
    for plugin in PLUGINS:
        before = count(args.before, plugin, leave_out=False)
        after = count(args.after, plugin, leave_out=True)
        report[plugin] = {"before": asdict(before), "after": asdict(after)}
    if args.json:
        print(json.dumps({"before": args.before, "after": after_commit, "plugins": report},
                         indent=2))
        return 0
    print(f"before {args.before}, after {after_commit} (features added since left out of "
          "like for like: bench/plugin_lines.py NEW_FEATURES)")
    print(f"{'':30}{'before':>8}{'after':>8}{'change':>9}")
    for plugin, counts in report.items():
        b, a = counts["before"], counts["after"]
        rows = [("product code, raw", b["product"], a["product"]),
                ("product code, like for like", b["product"], a["like_for_like"]),
                ("sandbox", b["sandbox"], a["sandbox"])]
        print(plugin)
        for label, old, new in rows:
            print(f"  {label:28}{old:>8,}{new:>8,}{change(old, new):>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
