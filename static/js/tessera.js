/* Tessera's page behaviour, kept out of the templates: the Content-Security-Policy allows no inline
 * script, event handler attribute or style attribute (tessera_site/settings.py).
 *
 * - The team switcher follows a mouse choice at once; from the keyboard, arrowing through the
 *   options must not leave the page (WCAG 3.2.2), so keyboard users press its Show button.
 * - Sizes computed by the server arrive as data attributes and are applied through the CSSOM.
 * - A wide table that scrolls in its own box (a phone, a long diff) becomes a named, focusable
 *   region, so it can be scrolled from the keyboard (WCAG 2.1.1); one that fits stays out of the
 *   tab order.
 * - Sections marked data-refresh-on-answer reload themselves shortly after an answer is posted
 *   inside them (this used to be an htmx trigger filter, which needs eval).
 * - What an htmx update changed is read out through the #live-status region: elements carrying
 *   data-announce say it; each is announced once per new message.
 */
(function () {
  "use strict";

  var pointerChose = false;
  document.addEventListener("pointerdown", function (ev) {
    pointerChose = !!(ev.target.closest && ev.target.closest("select[data-autosubmit]"));
  });
  document.addEventListener("change", function (ev) {
    var select = ev.target;
    if (select.matches && select.matches("select[data-autosubmit]") && pointerChose) select.form.requestSubmit();
  });

  function applySizes(root) {
    root.querySelectorAll("[data-min-width]").forEach(function (el) {
      el.style.minWidth = el.getAttribute("data-min-width") + "px";
    });
  }

  function nameOf(box) {
    var section = box.closest("section, article");
    var heading = section && section.querySelector("h1, h2, h3");
    return (heading ? heading.textContent.replace(/\s+/g, " ").trim() + ": " : "") + "scrollable area";
  }

  function markScrollRegions(root) {
    root.querySelectorAll(".table-wrap, .timeline-wrap").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1) {
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", nameOf(box));
      } else {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    });
  }

  var resizing = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizing);
    resizing = window.setTimeout(function () { markScrollRegions(document); }, 150);
  });

  // --- announcements ------------------------------------------------------------------------
  var announced = {};
  function keyOf(el) { return el.getAttribute("data-announce-key") || el.id || ""; }
  function messageOf(el) { return (el.getAttribute("data-announce") || el.textContent).replace(/\s+/g, " ").trim(); }

  function remember() {
    document.querySelectorAll("[data-announce]").forEach(function (el) { announced[keyOf(el)] = messageOf(el); });
  }

  function announceChanges() {
    var news = [];
    document.querySelectorAll("[data-announce]").forEach(function (el) {
      var key = keyOf(el), message = messageOf(el);
      if (message && announced[key] !== message) news.push(message);
      announced[key] = message;
    });
    if (!news.length) return;
    var live = document.getElementById("live-status");
    // Emptying first makes a repeated message (the same answer twice) be read again.
    live.textContent = "";
    window.setTimeout(function () { live.textContent = news.join(" "); }, 50);
  }

  document.addEventListener("DOMContentLoaded", function () {
    applySizes(document);
    markScrollRegions(document);
    remember();
  });

  document.addEventListener("htmx:afterRequest", function (ev) {
    var detail = ev.detail;
    if (!detail.successful || detail.requestConfig.verb !== "post") return;
    var section = ev.composedPath().filter(function (n) {
      return n.matches && n.matches("[data-refresh-on-answer]");
    })[0];
    if (section) window.htmx.trigger(section, "tessera:answered");
  });

  document.addEventListener("htmx:afterSettle", function (ev) {
    applySizes(document);
    markScrollRegions(document);
    announceChanges();
    // A refreshed section may have taken the focused button with it: keep the keyboard user's place.
    // An outerHTML swap leaves the old target detached: look its replacement up by id.
    var target = ev.detail.target;
    var now = target && (target.isConnected ? target : target.id && document.getElementById(target.id));
    if (document.activeElement === document.body && now) {
      var landing = now.matches("[data-focus-after-swap]") ? now : now.querySelector("[data-focus-after-swap]");
      if (landing) landing.focus();
    }
  });
})();
