"""What every browser test can check on a page: axe-core's WCAG 2.1 AA rules and the CSP.

axe-core comes vendored inside the axe-playwright-python wheel and is evaluated in the page by
Playwright (no download at run time; evaluation through the DevTools protocol is not subject to
the page's Content-Security-Policy, so the policy under test stays exactly as the server sent it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import SCREENSHOTS, shot

DESKTOP = {"width": 1360, "height": 900}
PHONE = {"width": 390, "height": 844}
FAILING_IMPACTS = ("serious", "critical")
AXE_OPTIONS = {"resultTypes": ["violations"]}

# Registered before any of the page's own code runs, in every document and frame of the context.
_CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile || e.documentURI}:${e.lineNumber})`
  );
});
"""

_axe = Axe()


@dataclass
class Watch:
    """What the browser reported while a context was open: CSP and script errors, bare documents."""

    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    documents_without_csp: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return (
            [f"console: {c}" for c in self.console]
            + [f"script error: {e}" for e in self.page_errors]
            + [f"no Content-Security-Policy header: {u}" for u in self.documents_without_csp]
        )


def watch_context(context) -> Watch:
    """Record CSP violations (console and securitypolicyviolation events), script errors and HTML
    documents served without a Content-Security-Policy, for every page the context opens."""
    watch = Watch()
    context.add_init_script(_CSP_LISTENER)

    def on_console(message) -> None:
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused to" in text):
            watch.console.append(text)

    def on_response(response) -> None:
        if response.request.resource_type != "document":
            return
        if "text/html" in (response.headers.get("content-type") or "") and (
            "content-security-policy" not in response.headers
        ):
            watch.documents_without_csp.append(response.url)

    def on_page(page) -> None:
        page.on("console", on_console)
        page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
        page.on("response", on_response)

    context.on("page", on_page)
    return watch


def csp_violations(page) -> list[str]:
    found = []
    for frame in page.frames:
        found += frame.evaluate("window.__cspViolations || []")
    return found


def serious_axe_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line per element."""
    results = _axe.run(page, options=AXE_OPTIONS)
    lines = []
    for violation in results.response["violations"]:
        if violation["impact"] not in FAILING_IMPACTS:
            continue
        for node in violation["nodes"]:
            lines.append(
                f"{violation['id']} ({violation['impact']}): {', '.join(map(str, node['target']))}"
                f" — {node.get('failureSummary', '').splitlines()[-1].strip()}"
            )
    return lines


def check_page(page, name: str) -> list[str]:
    """Everything wrong with the page as shown now: axe's serious/critical findings and CSP
    violations, each prefixed with the page's name. Takes a screenshot for a human to look at."""
    shot(page, name)
    problems = serious_axe_violations(page) + [f"CSP: {v}" for v in csp_violations(page)]
    return [f"{name}: {p}" for p in problems]


def assert_clean(report: str, problems: list[str], watch: Watch) -> None:
    """Fail with every problem found (each once); the list is also kept in test-artifacts/."""
    found = list(dict.fromkeys(problems + watch.problems()))
    path = SCREENSHOTS.parent / "a11y" / f"{report}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(found) + "\n")
    assert not found, f"{len(found)} problems:\n" + "\n".join(found)
