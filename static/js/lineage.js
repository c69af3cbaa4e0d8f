/* Tessera lineage graph: draws the server-laid-out graph as SVG, with pan, zoom, find and selection.
 *
 * Why our own ~200 lines rather than a vendored graph library: the layered left-to-right layout is
 * computed on the server (contracts/views_graphics.py), where the same code also draws the asset
 * page's lineage without JavaScript. What remains for the browser is drawing positioned boxes and
 * panning/zooming one <g> transform, which SVG does well for thousands of nodes; a library such as
 * cytoscape (~400 KB) would draw on a canvas our browser tests and screen readers cannot inspect.
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

  var state = { scale: 1, x: 0, y: 0, data: null, byId: {}, selected: null };
  var svg = el("svg", { class: "graph full", role: "img", "aria-label": "Lineage graph" });
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
    svg.querySelectorAll(".selected, .near").forEach(function (n) { n.classList.remove("selected", "near"); });
    var info = document.getElementById("graph-info");
    state.selected = id;
    if (id == null) { info.hidden = true; svg.classList.remove("has-selection"); return; }
    svg.classList.add("has-selection");
    var node = state.byId[id];
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
      '<button type="button" class="close" aria-label="Close">×</button>' +
      "<h3>" + escapeHtml(node.name) + "</h3>" +
      '<p class="mono small">' + escapeHtml(node.relation) + "</p>" +
      '<p class="small"><span class="chip">' + escapeHtml(node.team || "no team") + "</span> " + escapeHtml(node.project) + " · " + escapeHtml(node.type) + "</p>" +
      (node.proposal ? '<p class="small"><a href="/proposals/' + node.proposal + '/">Open proposal #' + node.proposal + "</a></p>" : "") +
      '<p><a class="btn small" href="' + node.url + '">Open asset</a> <a class="btn small" href="?focus=' + node.id + '&hops=2">Focus here</a></p>' +
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
    data.nodes.forEach(function (n) {
      var cls = "node" + (n.focus ? " focus" : "") + (n.impact ? " " + n.impact : "") + (n.status === "retired" ? " retired" : "");
      var g = el("g", {
        class: cls, transform: "translate(" + n.x + "," + n.y + ")", tabindex: "0",
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
    svg.setAttribute("data-ready", "true");
    document.getElementById("graph-count").textContent =
      data.nodes.length + " assets · " + data.edges.length + " edges" + (data.truncated ? " (truncated: focus on an asset)" : "");
    document.getElementById("graph-legend").innerHTML = data.teams.map(function (t) {
      return '<span class="dot" style="background:' + t.colour + '"></span>' + escapeHtml(t.slug);
    }).join(" ");
    fit();
    var focus = data.nodes.filter(function (n) { return n.focus; })[0];
    if (focus && data.nodes.length > 60) centreOn(focus);
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
  svg.addEventListener("keydown", function (ev) {
    var g = ev.target.closest && ev.target.closest("g.node");
    if (g && ev.key === "Enter") window.location = state.byId[Number(g.getAttribute("data-id"))].url;
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
