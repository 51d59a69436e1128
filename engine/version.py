"""The engine's version, in one place.

pyproject.toml reads it from here (hatch's `[tool.hatch.version]`), `engine.__version__`
re-exports it, and modules inside `engine` import it from here rather than from the
package facade, so that no module needs `engine/__init__.py` (and all it imports) first.
"""

__version__ = "0.1.0"
