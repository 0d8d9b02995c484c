// schemaviz page script (prefectdb, internal/schemaviz): search, focus, pan
// and zoom over the Graphviz drawing inlined above. No dependencies.
(function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";
  var FAR = 0.6; // below this screen scale, entities are drawn as named tiles
  var READ = 0.75; // a scale at which field rows are comfortable to read
  var data = JSON.parse(document.getElementById("schema-data").textContent);
  var svg = document.getElementById("schema");
  var graph = svg.querySelector("g.graph");
  var input = document.getElementById("search");
  var results = document.getElementById("results");
  var details = document.getElementById("details");

  var entities = {}, groups = {}, relations = {};
  data.groups.forEach(function (g) { groups[g.id] = g; });
  data.entities.forEach(function (e) {
    e.node = document.getElementById("e-" + e.name);
    e.rels = [];
    entities[e.name] = e;
  });
  data.relations.forEach(function (r) {
    r.edge = document.getElementById("r-" + r.from + "-" + r.name);
    relations[r.id] = r;
    entities[r.from].rels.push(r);
    if (r.to !== r.from) entities[r.to].rels.push(r);
  });

  // ---- view box: pan and zoom -------------------------------------------
  var full = svg.viewBox.baseVal;
  var home = { x: full.x, y: full.y, w: full.width, h: full.height };
  var vb = { x: home.x, y: home.y, w: home.w, h: home.h };

  function scale() {
    var r = svg.getBoundingClientRect();
    return Math.min(r.width / vb.w, r.height / vb.h) || 1;
  }
  function apply() {
    svg.setAttribute("viewBox", [vb.x, vb.y, vb.w, vb.h].join(" "));
    svg.classList.toggle("far", scale() < FAR);
  }
  // show fits a box (view-box coordinates) in the window, beside the
  // details panel when it is open, at most at scale max.
  function show(box, pad, max) {
    var r = svg.getBoundingClientRect();
    var aside = details.classList.contains("open") ? details.offsetWidth + 24 : 0;
    var avail = Math.max(r.width - aside, r.width / 2);
    var s = Math.min(avail / (box.w + 2 * pad), r.height / (box.h + 2 * pad), max || Infinity);
    var w = r.width / s, h = r.height / s;
    vb = { x: box.x + box.w / 2 - avail / 2 / s, y: box.y + box.h / 2 - h / 2, w: w, h: h };
    apply();
  }
  function fit() { show(home, 0); }
  function zoomAt(factor, cx, cy) {
    var w = Math.min(Math.max(vb.w / factor, home.w / 60), home.w * 4);
    var f = vb.w / w;
    vb = { x: cx - (cx - vb.x) / f, y: cy - (cy - vb.y) / f, w: w, h: vb.h / f };
    apply();
  }
  function toSVG(clientX, clientY) {
    var p = svg.createSVGPoint();
    p.x = clientX; p.y = clientY;
    return p.matrixTransform(svg.getScreenCTM().inverse());
  }
  // box of an element in view-box coordinates
  function boxOf(el) {
    var b = el.getBBox(), m = svg.getScreenCTM().inverse().multiply(el.getScreenCTM());
    var p1 = svg.createSVGPoint(), p2 = svg.createSVGPoint();
    p1.x = b.x; p1.y = b.y; p2.x = b.x + b.width; p2.y = b.y + b.height;
    p1 = p1.matrixTransform(m); p2 = p2.matrixTransform(m);
    return { x: Math.min(p1.x, p2.x), y: Math.min(p1.y, p2.y), w: Math.abs(p2.x - p1.x), h: Math.abs(p2.y - p1.y) };
  }
  function union(boxes) {
    var x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
    boxes.forEach(function (b) {
      x1 = Math.min(x1, b.x); y1 = Math.min(y1, b.y);
      x2 = Math.max(x2, b.x + b.w); y2 = Math.max(y2, b.y + b.h);
    });
    return { x: x1, y: y1, w: x2 - x1, h: y2 - y1 };
  }

  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var p = toSVG(ev.clientX, ev.clientY);
    zoomAt(Math.exp(-ev.deltaY * (ev.deltaMode === 1 ? 0.05 : 0.0015)), p.x, p.y);
  }, { passive: false });

  var drag = null;
  svg.addEventListener("pointerdown", function (ev) {
    if (ev.button !== 0) return;
    drag = { x: ev.clientX, y: ev.clientY, vx: vb.x, vy: vb.y, moved: false, id: ev.pointerId };
  });
  svg.addEventListener("pointermove", function (ev) {
    if (!drag) return;
    var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    if (!drag.moved) { drag.moved = true; svg.setPointerCapture(drag.id); svg.classList.add("dragging"); }
    var s = scale();
    vb.x = drag.vx - dx / s; vb.y = drag.vy - dy / s;
    apply();
  });
  function endDrag() {
    if (drag && drag.moved) {
      svg.classList.remove("dragging");
      suppressClick = true;
      setTimeout(function () { suppressClick = false; }, 0);
    }
    drag = null;
  }
  var suppressClick = false;
  svg.addEventListener("pointerup", endDrag);
  svg.addEventListener("pointercancel", endDrag);

  // ---- overview tiles ------------------------------------------------------
  // Each entity gets a tile with its name, shown instead of the field rows
  // when the drawing is too small to read (class "far" on the svg).
  // words splits an entity name at its capitals into lines of at most n
  // characters.
  function words(name, n) {
    var parts = name.match(/[A-Z0-9]+(?![a-z])|[A-Z][a-z0-9]*/g) || [name], lines = [], line = "";
    parts.forEach(function (p) {
      if (line && (line + p).length > n) { lines.push(line); line = p; } else { line += p; }
    });
    if (line) lines.push(line);
    return lines;
  }
  // tileText picks the line breaks that give the largest font filling the box.
  function tileText(name, w, h) {
    var best = { size: 0, lines: [name] };
    for (var n = 3; n <= name.length; n++) {
      var lines = words(name, n), longest = 0;
      lines.forEach(function (l) { longest = Math.max(longest, l.length); });
      var size = Math.min(44, (0.88 * w) / (0.62 * longest), (0.8 * h) / (1.2 * lines.length));
      if (size > best.size + 0.01) best = { size: size, lines: lines };
    }
    return best;
  }
  var tiles = svg.ownerDocument.createElementNS(SVGNS, "g");
  tiles.setAttribute("class", "tiles");
  graph.appendChild(tiles);
  data.entities.forEach(function (e) {
    var b = e.node.getBBox(), fitted = tileText(e.name, b.width, b.height), lines = fitted.lines, size = fitted.size;
    var g = document.createElementNS(SVGNS, "g");
    g.setAttribute("class", "tile");
    g.setAttribute("data-entity", e.name);
    var rect = document.createElementNS(SVGNS, "rect");
    rect.setAttribute("x", b.x); rect.setAttribute("y", b.y);
    rect.setAttribute("width", b.width); rect.setAttribute("height", b.height);
    rect.setAttribute("rx", 6);
    rect.setAttribute("fill", groups[e.group].header);
    g.appendChild(rect);
    var text = document.createElementNS(SVGNS, "text");
    text.setAttribute("font-size", size.toFixed(1));
    var top = b.y + b.height / 2 - ((lines.length - 1) * size * 1.15) / 2;
    lines.forEach(function (l, i) {
      var t = document.createElementNS(SVGNS, "tspan");
      t.setAttribute("x", b.x + b.width / 2);
      t.setAttribute("y", top + i * size * 1.15);
      t.textContent = l;
      text.appendChild(t);
    });
    g.appendChild(text);
    tiles.appendChild(g);
    e.tile = g;
  });

  // ---- focus ----------------------------------------------------------------
  var rings = svg.ownerDocument.createElementNS(SVGNS, "g");
  graph.appendChild(rings);
  var current = null;

  function clearFocus() {
    current = null;
    svg.classList.remove("focusing");
    svg.querySelectorAll(".focus, .neighbour, .related, .hit").forEach(function (el) {
      el.classList.remove("focus", "neighbour", "related", "hit");
    });
    rings.textContent = "";
    details.classList.remove("open");
  }
  function ring(e, cls) {
    var b = e.node.getBBox(), r = document.createElementNS(SVGNS, "rect");
    r.setAttribute("x", b.x - 6); r.setAttribute("y", b.y - 6);
    r.setAttribute("width", b.width + 12); r.setAttribute("height", b.height + 12);
    r.setAttribute("rx", 8);
    r.setAttribute("class", "ring " + cls);
    rings.appendChild(r);
  }
  // focus highlights an entity with its neighbours and relations; field
  // names a row to mark, rel a single relation to follow.
  function focus(name, opts) {
    opts = opts || {};
    clearFocus();
    var e = entities[name];
    if (!e) return;
    current = name;
    svg.classList.add("focusing");
    var shown = [e];
    e.node.classList.add("focus"); e.tile.classList.add("focus");
    e.rels.forEach(function (r) {
      if (opts.rel && opts.rel !== r.id) return;
      r.edge.classList.add("related");
      var other = entities[r.from === name ? r.to : r.from];
      if (other !== e && !other.node.classList.contains("neighbour")) {
        other.node.classList.add("neighbour"); other.tile.classList.add("neighbour");
        shown.push(other);
        ring(other, "neighbour");
      }
    });
    ring(e, "focus");
    if (opts.field) {
      var row = document.getElementById("a_f-" + name + "-" + opts.field);
      if (row) row.classList.add("hit");
    }
    renderDetails(e, opts.field);
    if (opts.zoom) {
      // The entity and its neighbours if they fit at a readable scale,
      // else the entity alone, its fields readable.
      var all = union(shown.map(function (x) { return boxOf(x.node); })), own = boxOf(e.node);
      var r = svg.getBoundingClientRect();
      if (Math.min(r.width / all.w, r.height / all.h) >= READ) show(all, 40, 1.2);
      else show(own, 30, 1.2);
    }
  }

  function el(tag, attrs, text) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function flags(f) {
    var out = [];
    if (f.pk) out.push("PK");
    if (f.fk) out.push("FK");
    if (f.ref) out.push("ref");
    if (f.unique && !f.pk) out.push("UQ");
    return out.join(" ");
  }
  // relParts describes a relation as seen from one of its ends: the edge
  // name on this end ("" for an edge of the other entity that has no
  // inverse), the other entity, and notes.
  function relParts(r, from) {
    var out = r.from === from, card = r.cardinality;
    if (!out) card = { O2M: "M2O", M2O: "O2M" }[card] || card;
    var notes = [card];
    if (r.column) notes.push(r.fk ? "FK " + r.column + (r.on_delete ? ", ON DELETE " + r.on_delete : "") : "no FK: " + r.column);
    if (r.role === "current-state") notes.push("current state");
    if (r.role === "history") notes.push("history");
    return { name: out ? r.name : r.inverse || "", edge: r.name, other: out ? r.to : r.from, note: notes.join(", ") };
  }
  function renderDetails(e, field) {
    var g = groups[e.group];
    details.textContent = "";
    var head = el("div", { "class": "head" });
    head.style.background = g.header;
    head.appendChild(el("h2", {}, e.name));
    head.appendChild(el("div", { "class": "sub" }, "table " + e.table + " · " + g.title));
    var close = el("button", { title: "Close (Esc)", "aria-label": "Close" }, "×");
    close.addEventListener("click", function () { clearFocus(); });
    head.appendChild(close);
    details.appendChild(head);
    details.appendChild(el("h3", {}, "Fields (" + e.fields.length + ")"));
    var table = el("table"), hit = null;
    e.fields.forEach(function (f) {
      var tr = el("tr", { title: f.go_type + (f.enum ? ": " + f.enum.join(" ") : "") + (f["default"] ? ", default " + f["default"] : "") });
      tr.appendChild(el("td", {}, f.name + (f.optional ? "?" : "")));
      tr.appendChild(el("td", { "class": "kind" }, f.kind));
      tr.appendChild(el("td", { "class": "flags" }, flags(f)));
      if (f.name === field) { tr.className = "hit"; hit = tr; }
      table.appendChild(tr);
    });
    details.appendChild(table);
    if (e.uniques) {
      details.appendChild(el("h3", {}, "Unique together"));
      var uu = el("ul");
      e.uniques.forEach(function (u) { uu.appendChild(el("li", {}, "(" + u + ")")); });
      details.appendChild(uu);
    }
    details.appendChild(el("h3", {}, "Relations (" + e.rels.length + ")"));
    var ul = el("ul");
    e.rels.forEach(function (r) {
      var t = relParts(r, e.name), li = el("li"), a = el("a", { title: "Focus " + t.other }, t.other);
      a.addEventListener("click", function () { focus(t.other, { zoom: true }); });
      if (t.name) {
        li.appendChild(el("span", {}, t.name + " → "));
        li.appendChild(a);
      } else { // an edge of the other entity, without inverse
        li.appendChild(a);
        li.appendChild(el("span", {}, "." + t.edge + " points here"));
      }
      li.appendChild(el("span", { "class": "note" }, " (" + t.note + ")"));
      ul.appendChild(li);
    });
    if (!e.rels.length) ul.appendChild(el("li", { "class": "note" }, "no relations"));
    details.appendChild(ul);
    details.classList.add("open");
    if (hit) hit.scrollIntoView({ block: "nearest" });
  }

  // ---- clicks on the drawing ----------------------------------------------
  svg.addEventListener("click", function (ev) {
    ev.preventDefault(); // field and header links are ids, not navigation
    if (suppressClick) return;
    var t = ev.target, row = t.closest ? t.closest("g[id^='a_f-']") : null;
    var node = t.closest ? t.closest("g.entity") : null;
    var edge = t.closest ? t.closest("g.edge") : null;
    if (node) {
      var name = node.id.slice(2);
      var field = null;
      if (row) field = row.id.slice(("a_f-" + name + "-").length);
      focus(name, { field: field });
    } else if (edge) {
      for (var id in relations) {
        if (relations[id].edge === edge) { focus(relations[id].from, { rel: id }); break; }
      }
    } else {
      clearFocus();
    }
  });
  svg.addEventListener("dblclick", function (ev) {
    var node = ev.target.closest ? ev.target.closest("g.entity") : null;
    if (node) focus(node.id.slice(2), { zoom: true });
  });

  // ---- search ----------------------------------------------------------------
  var index = [];
  data.entities.forEach(function (e) {
    index.push({ entity: e.name, keys: [e.name.toLowerCase(), e.table.toLowerCase()], label: e.name, what: "table " + e.table });
    e.fields.forEach(function (f) {
      index.push({ entity: e.name, field: f.name, keys: [f.name.toLowerCase()], label: e.table + "." + f.name, what: f.kind });
    });
  });
  function rank(item, q) {
    var best = Infinity;
    item.keys.forEach(function (k) {
      var s = k === q ? 0 : k.indexOf(q) === 0 ? 1 : k.indexOf(q) > 0 ? 2 : Infinity;
      best = Math.min(best, s);
    });
    return best + (item.field ? 3 : 0);
  }
  var found = [], active = 0;
  function search(q) {
    q = q.trim().toLowerCase().replace(/\s+/g, "_");
    results.textContent = "";
    found = [];
    if (!q) { results.classList.remove("open"); clearFocus(); return; }
    index.forEach(function (item) {
      var r = rank(item, q);
      if (r < Infinity) found.push({ item: item, rank: r });
    });
    found.sort(function (a, b) { return a.rank - b.rank || a.item.label.localeCompare(b.item.label); });
    found = found.slice(0, 30);
    active = 0;
    found.forEach(function (f, i) {
      var li = el("li", { role: "option" });
      var dot = el("span", { "class": "dot" });
      dot.style.background = groups[entities[f.item.entity].group].header;
      li.appendChild(dot);
      li.appendChild(el("span", {}, f.item.label));
      li.appendChild(el("span", { "class": "what" }, f.item.what));
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); choose(i); });
      results.appendChild(li);
    });
    if (!found.length) results.appendChild(el("li", { "class": "none" }, "nothing matches"));
    results.classList.add("open");
    mark();
    if (found.length) focus(found[0].item.entity, { field: found[0].item.field });
    else clearFocus();
  }
  function mark() {
    Array.prototype.forEach.call(results.children, function (li, i) { li.classList.toggle("active", i === active); });
  }
  function choose(i) {
    var f = found[i];
    if (!f) return;
    results.classList.remove("open");
    focus(f.item.entity, { field: f.item.field, zoom: true });
  }
  input.addEventListener("input", function () { search(input.value); });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      active = Math.max(0, Math.min(found.length - 1, active + (ev.key === "ArrowDown" ? 1 : -1)));
      mark();
      if (found[active]) focus(found[active].item.entity, { field: found[active].item.field });
    } else if (ev.key === "Enter") {
      ev.preventDefault();
      choose(active);
    } else if (ev.key === "Escape") {
      input.value = ""; search("");
    }
  });
  input.addEventListener("blur", function () { results.classList.remove("open"); });
  input.addEventListener("focus", function () { if (found.length) results.classList.add("open"); });

  // ---- toolbar, legend and keys ------------------------------------------------
  document.getElementById("fit").addEventListener("click", fit);
  document.getElementById("zoom-in").addEventListener("click", function () { zoomAt(1.4, vb.x + vb.w / 2, vb.y + vb.h / 2); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoomAt(1 / 1.4, vb.x + vb.w / 2, vb.y + vb.h / 2); });
  document.querySelectorAll(".legend .groups li").forEach(function (li) {
    li.addEventListener("click", function () {
      var c = document.getElementById("g-" + li.getAttribute("data-group"));
      if (c) { clearFocus(); show(boxOf(c), 20); }
    });
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.target === input) return;
    if (ev.key === "/") { ev.preventDefault(); input.focus(); input.select(); }
    else if (ev.key === "Escape") { clearFocus(); }
    else if (ev.key === "0") { fit(); }
    else if (ev.key === "+" || ev.key === "=") { zoomAt(1.4, vb.x + vb.w / 2, vb.y + vb.h / 2); }
    else if (ev.key === "-") { zoomAt(1 / 1.4, vb.x + vb.w / 2, vb.y + vb.h / 2); }
  });
  window.addEventListener("resize", apply);

  // For tests and the curious: the current state of the view.
  window.schemaviz = {
    focus: focus,
    clear: clearFocus,
    fit: fit,
    state: function () {
      return {
        focus: current,
        neighbours: Array.prototype.map.call(svg.querySelectorAll("g.entity.neighbour"), function (n) { return n.id.slice(2); }).sort(),
        related: svg.querySelectorAll("g.edge.related").length,
        scale: scale(),
        far: svg.classList.contains("far")
      };
    }
  };
  fit();
  document.documentElement.setAttribute("data-ready", "true");
})();
