"""The file store passes the whole standard store suite, with no opt-outs."""

from ordersync.testing import StoreConformance


class TestFileStoreConformance(StoreConformance):
    pass
