"""The problem library: one module per problem, each with `problem(**overrides)` and
`recipe(name="default")` (some offer "precise": float64, second-order stages)."""

import importlib
import pkgutil

from pinn.errors import BadValue


def names() -> list[str]:
    """The names of the problems in the library, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def get(name: str):
    """The module of problem `name`; ValueError listing the valid names if there is none."""
    if name not in names():
        raise BadValue(f"unknown problem {name!r}; valid: {', '.join(names())}")
    return importlib.import_module(f"{__name__}.{name}")


def check_recipe(name: str, valid: tuple[str, ...] = ("default",)) -> None:
    """A clear error for a recipe name the problem does not offer."""
    if name not in valid:
        raise BadValue(f"unknown recipe {name!r}; this problem has {', '.join(valid)}")
