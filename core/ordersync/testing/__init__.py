"""The conformance kit: the standard test suite every channel and store plugin runs.

See ``docs/conformance.md``.
"""
