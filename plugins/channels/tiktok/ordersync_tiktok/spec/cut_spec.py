"""Cut TikTok Shop's reconstructed OpenAPI document down to the operations this plugin uses.

The whole document (``tiktok-shop-openapi.reconstructed.json``, 1.8 MB, 159 operations; see
``SOURCES.md``) is rebuilt from TikTok's official Node.js SDK. This script keeps the paths in
:data:`OPERATIONS` and every component schema they reference, transitively, unchanged; nothing
else is edited. Run it again after updating the source document::

    python cut_spec.py /path/to/tiktok-shop-openapi.reconstructed.json tiktok_shop_202309.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

#: (path, method) of every call the channel sends, plus the shops call that gives the cipher.
OPERATIONS: tuple[tuple[str, str], ...] = (
    ("/authorization/202309/shops", "get"),
    ("/order/202309/orders/search", "post"),
    ("/order/202309/orders", "get"),
    ("/fulfillment/202309/orders/{order_id}/packages", "post"),
    ("/logistics/202309/delivery_options/{delivery_option_id}/shipping_providers", "get"),
    ("/product/202309/products/search", "post"),
    ("/product/202309/products/{product_id}/inventory/update", "post"),
    ("/return_refund/202309/cancellations", "post"),
    ("/return_refund/202309/cancellations/search", "post"),
    ("/return_refund/202309/returns/search", "post"),
)


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def cut(document: dict[str, Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, method in OPERATIONS:
        paths.setdefault(path, {})[method] = document["paths"][path][method]
    schemas = document["components"]["schemas"]
    wanted: set[str] = set()
    todo = _refs(paths)
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo |= _refs(schemas[name]) - wanted
    return {
        **{key: value for key, value in document.items() if key not in ("paths", "components")},
        "paths": paths,
        "components": {**document["components"],
                       "schemas": {name: schemas[name] for name in sorted(wanted)}},
    }


def main(source: str, target: str) -> None:
    document = json.loads(Path(source).read_text("utf-8"))
    Path(target).write_text(json.dumps(cut(document), indent=1, ensure_ascii=False) + "\n",
                            "utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:3])
