/* Tessera lineage graph: draws the server-laid-out graph as SVG, with pan, zoom, find and selection.
 *
 * Why our own ~200 lines rather than a vendored graph library: the layered left-to-right layout is
 * computed on the server (contracts/presenters/), where the same code also draws the asset
 * page's lineage without JavaScript. What remains for the browser is drawing positioned boxes and
 * panning/zooming one <g> transform, which SVG does well for thousands of nodes; a library such as
 * cytoscape (~400 KB) would draw on a canvas our browser tests and screen readers cannot inspect.
 *
 * Keyboard: the graph is one tab stop (a roving tabindex: the focused asset, else the first one).
 * Arrow keys move between neighbours (right: an asset that reads this one, left: one it reads,
 * up/down: the next asset in the same column), Enter opens the asset, + and − zoom, 0 fits,
 * Escape clears the selection. The focused node is described by the info panel, which lists what it
 * reads and what reads it: the graph's text alternative.
 *
 * The whole graph comes by level of detail (contracts/selectors/lineage_clusters.py): one box per
 * project and owner team, with the number of asset edges on each edge. Clicking a group (or Enter
 * on it) asks the server for the graph with that group opened (?expand=KEY, repeated); the opened
 * keys go into the page's URL, so a reload or a shared link shows the same view.
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

  var state = { scale: 1, x: 0, y: 0, data: null, byId: {}, selected: null, current: null, expanded: [] };
  var source = host.getAttribute("data-src");
  state.expanded = new URL(source, window.location.href).searchParams.getAll("expand");
  var svg = el("svg", {
    class: "graph full", role: "group", "aria-roledescription": "lineage graph",
    "aria-label": "Lineage graph", "aria-describedby": "graph-help"
  });
  var viewport = el("g", { class: "viewport" }, svg);
  var edgeLayer = el("g", { class: "edges" }, viewport);
  var nodeLayer = el("g", { class: "nodes" }, viewport);
  var labelLayer = el("g", { class: "labels" }, viewport);  // edge labels, above the boxes they pass
  host.appendChild(svg);

  function apply() {
    viewport.setAttribute("transform", "translate(" + state.x + "," + state.y + ") scale(" + state.scale + ")");
    // Text is unreadable when zoomed far out; hiding it keeps panning smooth on big graphs.
    svg.classList.toggle("far", state.scale < 0.35);
  }

  // legible: never smaller than the boxes' own size, so the first view reads without zooming
  // (a bigger graph starts at its sources, top left, and pans); the Fit button shows it all.
  function fit(legible) {
    if (!state.data) return;
    var box = host.getBoundingClientRect();
    var s = Math.min(box.width / state.data.width, box.height / state.data.height, 1.2);
    state.scale = legible ? Math.max(s, 1) : Math.max(s, 0.02);
    var w = state.data.width * state.scale, h = state.data.height * state.scale;
    state.x = w <= box.width ? (box.width - w) / 2 : 0;
    state.y = h <= box.height ? (box.height - h) / 2 : 0;
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
        var label = n.url ? '<a href="' + n.url + '">' + escapeHtml(n.name) + "</a>" : escapeHtml(n.name) + " (" + n.size + " assets)";
        return "<li>" + label + ' <span class="muted">' + escapeHtml(n.team || "") + "</span></li>";
      }).join("") || '<li class="muted">none in view</li>';
    }
    info.innerHTML = node.kind === "cluster" ? clusterInfo(node, list(ups), list(downs)) :
      '<button type="button" class="close" aria-label="Close the details">×</button>' +
      '<h3 id="graph-info-h">' + escapeHtml(node.name) + "</h3>" +
      '<p class="mono small">' + escapeHtml(node.relation) + "</p>" +
      '<p class="small"><span class="chip">' + escapeHtml(node.team || "no team") + "</span> " + escapeHtml(node.project) + " · " + escapeHtml(node.type) + "</p>" +
      (node.columnNote ? '<p class="small col-note">' + escapeHtml(node.columnNote) + "</p>" : "") +
      (node.proposal ? '<p class="small"><a href="/proposals/' + node.proposal + '/">Open proposal #' + node.proposal + "</a></p>" : "") +
      '<p><a class="btn small" href="' + node.url + '">Open asset<span class="sr-only"> ' + escapeHtml(node.name) + '</span></a> <a class="btn small" href="?focus=' + assetId(node) + '&hops=2">Focus here<span class="sr-only"> on ' + escapeHtml(node.name) + "</span></a>" +
      (node.group ? ' <button type="button" class="btn small" data-collapse="' + escapeHtml(node.group) + '">Close its group</button>' : "") + "</p>" +
      '<h4>Reads</h4><ul class="plain small">' + list(ups) + "</ul>" +
      '<h4>Read by</h4><ul class="plain small">' + list(downs) + "</ul>";
    info.hidden = false;
    info.querySelector(".close").addEventListener("click", function () { select(null); });
    var opener = info.querySelector("[data-expand]"), closer = info.querySelector("[data-collapse]");
    if (opener) opener.addEventListener("click", function () { expand(node.id, true); });
    if (closer) closer.addEventListener("click", function () { collapse(node.group); });
  }

  function assetId(node) { return node.asset_id || node.id; }

  function clusterInfo(node, ups, downs) {
    return '<button type="button" class="close" aria-label="Close the details">×</button>' +
      '<h3 id="graph-info-h">' + escapeHtml(node.name) + "</h3>" +
      '<p class="small"><span class="chip">' + escapeHtml(node.team || "no team") + "</span> " + escapeHtml(node.project || "no project") +
      " · " + node.size + " assets, " + node.internal_edges + " edges between them</p>" +
      '<p><button type="button" class="btn small" data-expand="' + escapeHtml(node.id) + '">Open this group<span class="sr-only"> ' + escapeHtml(node.name) + "</span></button></p>" +
      '<h4>Reads from</h4><ul class="plain small">' + ups + "</ul>" +
      '<h4>Read by</h4><ul class="plain small">' + downs + "</ul>";
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function draw(data) {
    edgeLayer.textContent = "";
    nodeLayer.textContent = "";
    labelLayer.textContent = "";
    svg.classList.remove("has-column");
    state.byId = {};
    state.current = null;
    select(null);
    state.data = data;
    var w = data.node_w, h = data.node_h;
    data.edges.forEach(function (e) {
      var cls = "edge";
      var a = data.nodesById[e.from], b = data.nodesById[e.to];
      if (a.project !== b.project) cls += " cross";
      if (a.impact && b.impact) cls += " impact";
      if (e.count >= 10) cls += e.count >= 100 ? " w3" : " w2";
      // The same curve as contracts/presenters/graphics.edge_path: right side to left side.
      var x1 = a.x + w, y1 = a.y + h / 2, x2 = b.x, y2 = b.y + h / 2, mid = (x1 + x2) / 2;
      var d = "M" + x1 + "," + y1 + " C" + mid + "," + y1 + " " + mid + "," + y2 + " " + x2 + "," + y2;
      e.el = el("path", { d: d, class: cls, "data-from": e.from, "data-to": e.to }, edgeLayer);
      if (e.count > 1 || (e.count && (a.kind === "cluster" || b.kind === "cluster"))) {
        var label = el("text", { x: mid, y: (y1 + y2) / 2, class: "e-count", "text-anchor": "middle", "aria-hidden": "true" }, labelLayer);
        label.textContent = e.count;
      }
    });
    if (data.column) markColumn(data.column, data.nodesById);
    data.nodes.forEach(function (n) { n.el = drawNode(n, w, h); state.byId[n.id] = n; });
    var groups = data.nodes.filter(function (n) { return n.kind === "cluster"; }).length;
    var summary = (groups ? groups + " groups · " : "") + (data.nodes.length - groups) + " assets · " + data.edges.length + " edges" + (data.truncated ? " (truncated: focus on an asset)" : "");
    document.getElementById("graph-count").textContent = summary;
    svg.setAttribute("aria-label", "Lineage graph, " + summary);
    document.getElementById("graph-overview").hidden = !state.expanded.length;
    drawLegend(data.teams);
    fit(true);
    var focus = data.nodes.filter(function (n) { return n.focus; })[0] || state.opened;
    if (focus && !isVisible(focus)) centreOn(focus);
    // Reading order (column by column, top to bottom) decides the first tab stop when nothing is focused.
    var first = focus || data.nodes.slice().sort(function (a, b) { return a.x - b.x || a.y - b.y; })[0];
    makeCurrent(first);
    svg.setAttribute("data-ready", "true");
  }

  function drawNode(n, w, h) {
    var cluster = n.kind === "cluster";
    var cls = "node" + (cluster ? " cluster" : "") + (n.focus ? " focus" : "") + (n.impact ? " " + n.impact : "") + (n.status === "retired" ? " retired" : "") +
      (n.columnRole ? " col-" + n.columnRole : "");
    var where = n.project ? n.project + " project, " : "";
    var g = el("g", {
      class: cls, transform: "translate(" + n.x + "," + n.y + ")", tabindex: "-1", role: cluster ? "button" : "link",
      "aria-label": cluster
        ? "Group " + n.name + ": " + n.size + " assets of " + where + (n.team || "no team") + ". Reads from " + n.ups.length + " boxes, read by " + n.downs.length + ". Enter opens it."
        : n.name + ", " + where + (n.team || "no team") +
          (n.impact ? ", " + n.impact + " by the proposal" : "") + (n.status === "retired" ? ", retired" : "") +
          (n.columnNote ? ", " + n.columnNote : "") + ". Reads " + n.ups.length + ", read by " + n.downs.length + ".",
      "data-id": n.id, "data-name": n.name, "data-team": n.team || "", "data-project": n.project, "data-relation": n.relation || "",
      "data-kind": n.kind || "asset"
    }, nodeLayer);
    el("title", {}, g).textContent = cluster
      ? n.size + " assets: " + n.first + " … " + n.last + " (" + (n.team || "no team") + ", " + (n.project || "no project") + ")"
      : n.relation + " (" + (n.team || "no team") + ", " + n.project + ")";
    if (cluster) el("rect", { x: 4, y: -4, width: w, height: h, rx: 6, class: "stack" }, g);
    el("rect", { width: w, height: h, rx: 6, class: "box" }, g);
    el("rect", { width: 6, height: h, rx: 2, fill: n.colour, class: "stripe" }, g);
    var name = el("text", { x: 14, y: 19, class: "n-name" }, g);
    name.textContent = n.name.length > 26 ? n.name.slice(0, 25) + "…" : n.name;
    var meta = el("text", { x: 14, y: 36, class: "n-meta" }, g);
    meta.textContent = cluster ? n.size + " assets · " + (n.ranged ? (n.team || "no team") : "click to open")
      : n.columnNote ? (n.columnNote.length > 32 ? n.columnNote.slice(0, 31) + "…" : n.columnNote)
      : n.project + " · " + (n.team || "no team");
    return g;
  }

  // --- one column's lineage over the graph: where it comes from, who reads it and where ---------
  function markColumn(column, byId) {
    var edges = {};
    state.data.edges.forEach(function (e) { edges[e.from + ">" + e.to] = e; });
    column.nodes.forEach(function (c) {
      var n = byId[String(c.id)];
      if (n) { n.columnRole = c.role; n.columnNote = c.note; }
    });
    column.edges.forEach(function (c) {
      var e = edges[c.from + ">" + c.to];
      if (!e) return;  // an end outside the hops shown; the table below lists it
      e.el.classList.add("column");
      var a = byId[e.from], b = byId[e.to];
      var x = (a.x + state.data.node_w + b.x) / 2, y = (a.y + b.y + state.data.node_h) / 2;
      // The clauses on the edge (short enough for the gap between two boxes), the whole label on hover.
      var label = el("text", { x: x, y: y - 4, class: "c-label", "text-anchor": "middle", "data-from": e.from, "data-to": e.to }, labelLayer);
      label.textContent = c.where.length > 14 ? c.where.slice(0, 13) + "…" : c.where;
      el("title", {}, label).textContent = c.label;
    });
    svg.classList.add("has-column");
  }

  // --- level of detail: open and close groups ----------------------------------------------------
  function load(expanded, opened, moveFocus) {
    var url = new URL(source, window.location.href), page = new URL(window.location.href);
    url.searchParams.delete("expand");
    page.searchParams.delete("expand");
    expanded.forEach(function (k) { url.searchParams.append("expand", k); page.searchParams.append("expand", k); });
    svg.removeAttribute("data-ready");
    return fetch(url.toString(), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (data) {
        state.expanded = data.expanded || [];
        if (data.mode === "clusters") window.history.replaceState(null, "", page.toString());
        data.nodes.forEach(function (n) { n.id = String(n.id); });
        data.edges.forEach(function (e) { e.from = String(e.from); e.to = String(e.to); });
        data.nodesById = {};
        data.nodes.forEach(function (n) { data.nodesById[n.id] = n; n.ups = []; n.downs = []; });
        data.edges.forEach(function (e) {
          data.nodesById[e.from].downs.push(data.nodesById[e.to]);
          data.nodesById[e.to].ups.push(data.nodesById[e.from]);
        });
        if (!data.nodes.length) { host.insertAdjacentHTML("beforeend", '<p class="empty-note">No assets yet: sync a manifest first.</p>'); return; }
        // After opening a group, the keyboard and the view go to its first box.
        state.opened = opened ? data.nodes.filter(function (n) { return n.id === opened || n.group === opened || n.id.indexOf(opened + ":") === 0; })
          .sort(function (a, b) { return a.x - b.x || a.y - b.y; })[0] : null;
        draw(data);
        if (moveFocus && state.opened) state.opened.el.focus();
      });
  }

  function expand(key, moveFocus) {
    if (state.expanded.indexOf(key) < 0) load(state.expanded.concat([key]), key, moveFocus).catch(failed);
  }

  function collapse(key) {
    // Closing a group closes its ranges too; the keyboard goes to the group's box again.
    load(state.expanded.filter(function (k) { return k !== key && k.indexOf(key + ":") !== 0; }), key, true).catch(failed);
  }

  function failed(err) {
    host.insertAdjacentHTML("beforeend", '<p class="error">Could not load the graph (' + escapeHtml(err.message) + ").</p>");
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
    else if (key === "0") fit(false);
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
    if (g && g.getAttribute("data-kind") === "cluster") { expand(g.getAttribute("data-id")); return; }
    select(g ? g.getAttribute("data-id") : null);
  });
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var box = host.getBoundingClientRect();
    zoomAt(ev.deltaY < 0 ? 1.15 : 1 / 1.15, ev.clientX - box.left, ev.clientY - box.top);
  }, { passive: false });
  svg.addEventListener("focusin", function (ev) {
    var g = ev.target.closest && ev.target.closest("g.node");
    if (!g) return;
    var node = state.byId[g.getAttribute("data-id")];
    if (state.current !== node) makeCurrent(node);
    select(node.id);
  });
  svg.addEventListener("keydown", function (ev) {
    var g = ev.target.closest && ev.target.closest("g.node");
    if (!g || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    var node = state.byId[g.getAttribute("data-id")];
    if (ev.key === "Enter" || (ev.key === " " && node.kind === "cluster")) {
      ev.preventDefault();
      if (node.kind === "cluster") expand(node.id, true); else window.location = node.url;
      return;
    }
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
      if (how === "fit") fit(false); else zoomAt(how === "in" ? 1.3 : 1 / 1.3, box.width / 2, box.height / 2);
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

  document.getElementById("graph-overview").addEventListener("click", function () {
    // The button hides itself: the graph's tab stop takes the focus rather than the page.
    load([], null).then(function () { if (state.current) state.current.el.focus(); }).catch(failed);
  });

  load(state.expanded, null).catch(failed);
})();
