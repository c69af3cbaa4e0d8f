"""Root pytest configuration: shared fixtures live in tessera_site/testing/."""

import importlib.util

pytest_plugins = ["tessera_site.testing.fixtures"]
if importlib.util.find_spec("tessera_site.testing.demo_builds") is not None:
    pytest_plugins.append("tessera_site.testing.demo_builds")
