"""`manage.py tessera_check`: the CI check (bin/tessera-check) as a management command.

The logic lives in the standard-library-only script `bin/tessera-check`, which CI images can
run without Django; this command loads and runs that same code, so the two never drift apart.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from django.conf import settings
from django.core.management.base import BaseCommand

SCRIPT = Path(settings.BASE_DIR) / "bin" / "tessera-check"


def load_script() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("tessera_check_script", str(SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


class Command(BaseCommand):
    help = "Post a manifest to Tessera's check endpoint; exit 0 may merge, 1 lacks acknowledgments, 2 error."

    def add_arguments(self, parser) -> None:
        parser.add_argument("manifest", nargs="?", default="target/manifest.json")
        parser.add_argument("--url", default=None)
        parser.add_argument("--api-key", default=None)
        parser.add_argument("--catalog", default="")
        parser.add_argument("--open-proposals", action="store_true")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options) -> None:
        argv = [options["manifest"]]
        # Default to this installation's own URL (TESSERA_BASE_URL) unless told otherwise.
        url = options["url"] or os.environ.get("TESSERA_URL") or settings.TESSERA_BASE_URL
        argv += ["--url", url]
        if options["api_key"]:
            argv += ["--api-key", options["api_key"]]
        if options["catalog"]:
            argv += ["--catalog", options["catalog"]]
        if options["open_proposals"]:
            argv.append("--open-proposals")
        if options["json"]:
            argv.append("--json")
        code = load_script().main(argv, out=self.stdout, err=self.stderr)
        if code:
            sys.exit(code)
