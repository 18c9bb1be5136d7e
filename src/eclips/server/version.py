"""The server's version, as ``GET /v1/health`` reports it."""

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("eclips")
except PackageNotFoundError:  # running from a source tree without installing
    VERSION = "1.0.0"
