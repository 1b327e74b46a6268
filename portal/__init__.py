"""The training portal: a lean Flask core; courses arrive as content packs."""

from portal.app import create_app

__version__ = "0.1.0"
__all__ = ["create_app", "__version__"]
