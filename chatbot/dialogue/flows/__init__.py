"""Business flows; importing this package registers every module's flows (see `forms.flow`)."""
import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
