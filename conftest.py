"""Root pytest configuration: shared fixtures live in the testsupport package (not deployed)."""

pytest_plugins = ["testsupport.fixtures", "testsupport.demo"]
