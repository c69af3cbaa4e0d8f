/* Tessera lineage graph: draws the server-laid-out graph as SVG, with pan, zoom, find and selection.
 *
 * Why our own ~200 lines rather than a vendored graph library: the layered left-to-right layout is
 * computed on the server (contracts/views_graphics.py), where the same code also draws the asset
 * page's lineage without JavaScript. What remains for the browser is drawing positioned boxes and
 * panning/zooming one <g> transform, which SVG does well for thousands of nodes; a library such as
 * cytoscape (~400 KB) would draw on a canvas our browser tests and screen readers cannot inspect.
 *
 * Keyboard: the graph is one tab stop (a roving tabindex: the focused asset, else the first one).
 * Arrow keys move between neighbours (right: an asset that reads this one, left: one it reads,
 * up/down: the next asset in the same column), Enter opens the asset, + and − zoom, 0 fits,
 * Escape clears the selection. The focused node is described by the info panel, which lists what it
 * reads and what reads it: the graph's text alternative.
 */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var host = document.getElementById("graph");
  if (!host) return;

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(node);
    return node;
  }

  var state = { scale: 1, x: 0, y: 0, data: null, byId: {}, selected: null, current: null };
  var svg = el("svg", {
    class: "graph full", role: "group", "aria-roledescription": "lineage graph",
    "aria-label": "Lineage graph", "aria-describedby": "graph-help"
  });
  var viewport = el("g", { class: "viewport" }, svg);
  var edgeLayer = el("g", { class: "edges" }, viewport);
  var nodeLayer = el("g", { class: "nodes" }, viewport);
  host.appendChild(svg);

  function apply() {
    viewport.setAttribute("transform", "translate(" + state.x + "," + state.y + ") scale(" + state.scale + ")");
    // Text is unreadable when zoomed far out; hiding it keeps panning smooth on big graphs.
    svg.classList.toggle("far", state.scale < 0.35);
  }

  function fit() {
    if (!state.data) return;
    var box = host.getBoundingClientRect();
    var s = Math.min(box.width / state.data.width, box.height / state.data.height, 1.2);
    state.scale = Math.max(s, 0.02);
    state.x = (box.width - state.data.width * state.scale) / 2;
    state.y = (box.height - state.data.height * state.scale) / 2;
    apply();
  }

  function zoomAt(factor, cx, cy) {
    var next = Math.min(4, Math.max(0.02, state.scale * factor));
    factor = next / state.scale;
    state.x = cx - (cx - state.x) * factor;
    state.y = cy - (cy - state.y) * factor;
    state.scale = next;
    apply();
  }

  function centreOn(node) {
    var box = host.getBoundingClientRect();
    if (state.scale < 0.8) state.scale = 1;
    state.x = box.width / 2 - (node.x + state.data.node_w / 2) * state.scale;
    state.y = box.height / 2 - (node.y + state.data.node_h / 2) * state.scale;
    apply();
  }

  function select(id) {
    var node;
    svg.querySelectorAll(".selected, .near").forEach(function (n) { n.classList.remove("selected", "near"); });
    var info = document.getElementById("graph-info");
    state.selected = id;
    if (id == null) { info.hidden = true; svg.classList.remove("has-selection"); return; }
    node = state.byId[id];
    svg.classList.add("has-selection");
    node.el.classList.add("selected");
    var ups = [], downs = [];
    state.data.edges.forEach(function (e) {
      if (e.from === id || e.to === id) {
        e.el.classList.add("near");
        var other = state.byId[e.from === id ? e.to : e.from];
        other.el.classList.add("near");
        (e.from === id ? downs : ups).push(other);
      }
    });
    function list(nodes) {
      return nodes.map(function (n) {
        return '<li><a href="' + n.url + '">' + escapeHtml(n.name) + '</a> <span class="muted">' + escapeHtml(n.team || "") + "</span></li>";
      }).join("") || '<li class="muted">none in view</li>';
    }
    info.innerHTML =
      '<button type="button" class="close" aria-label="Close the details">×</button>' +
      '<h3 id="graph-info-h">' + escapeHtml(node.name) + "</h3>" +
      '<p class="mono small">' + escapeHtml(node.relation) + "</p>" +
      '<p class="small"><span class="chip">' + escapeHtml(node.team || "no team") + "</span> " + escapeHtml(node.project) + " · " + escapeHtml(node.type) + "</p>" +
      (node.proposal ? '<p class="small"><a href="/proposals/' + node.proposal + '/">Open proposal #' + node.proposal + "</a></p>" : "") +
      '<p><a class="btn small" href="' + node.url + '">Open asset<span class="sr-only"> ' + escapeHtml(node.name) + '</span></a> <a class="btn small" href="?focus=' + node.id + '&hops=2">Focus here<span class="sr-only"> on ' + escapeHtml(node.name) + "</span></a></p>" +
      '<h4>Reads</h4><ul class="plain small">' + list(ups) + "</ul>" +
      '<h4>Read by</h4><ul class="plain small">' + list(downs) + "</ul>";
    info.hidden = false;
    info.querySelector(".close").addEventListener("click", function () { select(null); });
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function draw(data) {
    state.data = data;
    var w = data.node_w, h = data.node_h;
    data.edges.forEach(function (e) {
      var cls = "edge";
      var a = data.nodesById[e.from], b = data.nodesById[e.to];
      if (a.project !== b.project) cls += " cross";
      if (a.impact && b.impact) cls += " impact";
      e.el = el("path", { d: e.d, class: cls, "data-from": e.from, "data-to": e.to }, edgeLayer);
    });
    data.nodes.forEach(function (n) { n.ups = []; n.downs = []; });
    data.edges.forEach(function (e) {
      data.nodesById[e.from].downs.push(data.nodesById[e.to]);
      data.nodesById[e.to].ups.push(data.nodesById[e.from]);
    });
    data.nodes.forEach(function (n) {
      var cls = "node" + (n.focus ? " focus" : "") + (n.impact ? " " + n.impact : "") + (n.status === "retired" ? " retired" : "");
      var g = el("g", {
        class: cls, transform: "translate(" + n.x + "," + n.y + ")", tabindex: "-1", role: "link",
        "aria-label": n.name + ", " + n.project + " project, " + (n.team || "no team") +
          (n.impact ? ", " + n.impact + " by the proposal" : "") + (n.status === "retired" ? ", retired" : "") +
          ". Reads " + n.ups.length + ", read by " + n.downs.length + ".",
        "data-id": n.id, "data-name": n.name, "data-team": n.team || "", "data-project": n.project, "data-relation": n.relation
      }, nodeLayer);
      el("title", {}, g).textContent = n.relation + " (" + (n.team || "no team") + ", " + n.project + ")";
      el("rect", { width: w, height: h, rx: 6, class: "box" }, g);
      el("rect", { width: 6, height: h, rx: 2, fill: n.colour, class: "stripe" }, g);
      var name = el("text", { x: 14, y: 15, class: "n-name" }, g);
      name.textContent = n.name.length > 24 ? n.name.slice(0, 23) + "…" : n.name;
      var meta = el("text", { x: 14, y: 28, class: "n-meta" }, g);
      meta.textContent = n.project + " · " + (n.team || "no team");
      n.el = g;
      state.byId[n.id] = n;
    });
    var summary = data.nodes.length + " assets · " + data.edges.length + " edges" + (data.truncated ? " (truncated: focus on an asset)" : "");
    document.getElementById("graph-count").textContent = summary;
    svg.setAttribute("aria-label", "Lineage graph, " + summary);
    drawLegend(data.teams);
    fit();
    var focus = data.nodes.filter(function (n) { return n.focus; })[0];
    if (focus && data.nodes.length > 60) centreOn(focus);
    // Reading order (column by column, top to bottom) decides the first tab stop when nothing is focused.
    var first = focus || data.nodes.slice().sort(function (a, b) { return a.x - b.x || a.y - b.y; })[0];
    makeCurrent(first);
    svg.setAttribute("data-ready", "true");
  }

  function drawLegend(teams) {
    // Built node by node: the policy forbids style attributes in markup, the CSSOM is allowed.
    var legend = document.getElementById("graph-legend");
    legend.textContent = "";
    teams.forEach(function (t) {
      var dot = document.createElement("span");
      dot.className = "dot";
      dot.style.background = t.colour;
      dot.setAttribute("aria-hidden", "true");
      legend.appendChild(dot);
      legend.appendChild(document.createTextNode(t.slug + " "));
    });
  }

  // --- keyboard ------------------------------------------------------------------------------
  function makeCurrent(node) {
    if (state.current) {
      state.current.el.setAttribute("tabindex", "-1");
      state.current.el.removeAttribute("aria-describedby");
    }
    state.current = node;
    node.el.setAttribute("tabindex", "0");
    node.el.setAttribute("aria-describedby", "graph-info");
  }

  function isVisible(node) {
    var box = host.getBoundingClientRect();
    var left = state.x + node.x * state.scale, top = state.y + node.y * state.scale;
    return left >= 0 && top >= 0 && left + state.data.node_w * state.scale <= box.width &&
      top + state.data.node_h * state.scale <= box.height;
  }

  function nearestTo(node, candidates) {
    return candidates.slice().sort(function (a, b) { return Math.abs(a.y - node.y) - Math.abs(b.y - node.y); })[0];
  }

  function neighbour(node, key) {
    if (key === "ArrowRight") return nearestTo(node, node.downs);
    if (key === "ArrowLeft") return nearestTo(node, node.ups);
    var column = state.data.nodes.filter(function (n) { return n.x === node.x; });
    column.sort(function (a, b) { return a.y - b.y; });
    return column[column.indexOf(node) + (key === "ArrowDown" ? 1 : -1)];
  }

  function moveTo(node) {
    makeCurrent(node);
    if (!isVisible(node)) centreOn(node);
    node.el.focus();
  }

  function zoomKey(key) {
    var box = host.getBoundingClientRect();
    if (key === "+" || key === "=") zoomAt(1.3, box.width / 2, box.height / 2);
    else if (key === "-" || key === "_" || key === "−") zoomAt(1 / 1.3, box.width / 2, box.height / 2);
    else if (key === "0") fit();
    else return false;
    return true;
  }

  // --- pan, zoom, select ---------------------------------------------------------------------
  var drag = null;
  svg.addEventListener("pointerdown", function (ev) {
    drag = { x: ev.clientX, y: ev.clientY, sx: state.x, sy: state.y, moved: false };
    svg.setPointerCapture(ev.pointerId);
  });
  svg.addEventListener("pointermove", function (ev) {
    if (!drag) return;
    var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    state.x = drag.sx + dx; state.y = drag.sy + dy;
    apply();
  });
  svg.addEventListener("pointerup", function (ev) {
    var wasClick = drag && !drag.moved;
    drag = null;
    if (!wasClick) return;
    var target = document.elementFromPoint(ev.clientX, ev.clientY);
    var g = target && target.closest ? target.closest("g.node") : null;
    select(g ? Number(g.getAttribute("data-id")) : null);
  });
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var box = host.getBoundingClientRect();
    zoomAt(ev.deltaY < 0 ? 1.15 : 1 / 1.15, ev.clientX - box.left, ev.clientY - box.top);
  }, { passive: false });
  svg.addEventListener("focusin", function (ev) {
    var g = ev.target.closest && ev.target.closest("g.node");
    if (!g) return;
    var node = state.byId[Number(g.getAttribute("data-id"))];
    if (state.current !== node) makeCurrent(node);
    select(node.id);
  });
  svg.addEventListener("keydown", function (ev) {
    var g = ev.target.closest && ev.target.closest("g.node");
    if (!g || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    var node = state.byId[Number(g.getAttribute("data-id"))];
    if (ev.key === "Enter") { window.location = node.url; return; }
    if (ev.key === "Escape") { select(null); return; }
    if (zoomKey(ev.key)) { ev.preventDefault(); return; }
    if (ev.key.indexOf("Arrow") !== 0) return;
    ev.preventDefault();  // arrows move in the graph, not the page
    var next = neighbour(node, ev.key);
    if (next) moveTo(next);
  });
  document.querySelectorAll("[data-zoom]").forEach(function (button) {
    button.addEventListener("click", function () {
      var box = host.getBoundingClientRect(), how = button.getAttribute("data-zoom");
      if (how === "fit") fit(); else zoomAt(how === "in" ? 1.3 : 1 / 1.3, box.width / 2, box.height / 2);
    });
  });
  var find = document.getElementById("graph-find");
  find.addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter") return;
    ev.preventDefault();
    var q = find.value.trim().toLowerCase();
    if (!q || !state.data) return;
    var hit = state.data.nodes.filter(function (n) { return n.name.toLowerCase() === q; })[0] ||
      state.data.nodes.filter(function (n) { return n.relation.toLowerCase().indexOf(q) >= 0 || n.name.toLowerCase().indexOf(q) >= 0; })[0];
    if (hit) { centreOn(hit); select(hit.id); }
  });

  fetch(host.getAttribute("data-src"), { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
    .then(function (data) {
      data.nodesById = {};
      data.nodes.forEach(function (n) { data.nodesById[n.id] = n; });
      if (!data.nodes.length) { host.insertAdjacentHTML("beforeend", '<p class="empty-note">No assets yet: sync a manifest first.</p>'); return; }
      draw(data);
    })
    .catch(function (err) { host.insertAdjacentHTML("beforeend", '<p class="error">Could not load the graph (' + escapeHtml(err.message) + ").</p>"); });
})();
