"""``ordersync auth``'s refusals before any platform is contacted: a platform without a flow, an
account that does not exist, a listen address that is not a loopback one."""

from __future__ import annotations

from tests.connect.conftest import Folder


def _file_platforms(folder: Folder) -> None:
    (folder.path / "shop").mkdir()
    folder.write(channels={"shop": {"type": "file", "path": "shop"}})


def test_a_platform_without_a_flow_says_where_its_credentials_come_from(folder: Folder) -> None:
    _file_platforms(folder)

    done = folder.run("auth", "main_store", "--paste")

    assert done.returncode == 2
    assert "main_store (file) has no authorization flow" in done.stderr


def test_an_unknown_account_lists_the_names(folder: Folder) -> None:
    _file_platforms(folder)

    done = folder.run("auth", "ebay-uk", "--paste")

    assert done.returncode == 2
    assert "no channel or main store named 'ebay-uk'" in done.stderr
    assert "shop, main_store" in done.stderr


def test_only_a_loopback_address_is_listened_on(folder: Folder) -> None:
    _file_platforms(folder)

    done = folder.run("auth", "shop", "--listen", "0.0.0.0:8765")

    assert done.returncode == 2
    assert "loopback" in done.stderr
