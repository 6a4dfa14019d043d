"""The file channel passes the whole standard channel suite, with no opt-outs."""

from ordersync.testing import ChannelConformance


class TestFileChannelConformance(ChannelConformance):
    pass
