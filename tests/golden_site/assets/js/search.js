/* showcase site search: runs entirely in the browser on the index parts search/index-<year>.js
   (window.SHOWCASE_SEARCH_PARTS, built by generator/site/search.py), so it also works from file://.
   Terms: each Chinese character alone and every pair of neighbouring characters; words of
   ASCII letters and digits lowercased. A query of one character looks for that character,
   a longer run of Chinese for its pairs. Keep in step with generator/site/search.py. */
(function () {
  "use strict";

  var index = merge(window.SHOWCASE_SEARCH_PARTS || []);

  /* The index comes in parts, one per year (search/index-<year>.js); every part lists all
     units, so merging renumbers only documents. */
  function merge(parts) {
    if (!parts.length) { return null; }
    var out = { version: parts[0].version, fields: parts[0].fields, weights: parts[0].weights,
                units: parts[0].units, years: [], docs: [], terms: {} };
    parts.forEach(function (part) {
      var offset = out.docs.length;
      part.years.forEach(function (y) { if (out.years.indexOf(y) < 0) { out.years.push(y); } });
      Array.prototype.push.apply(out.docs, part.docs);
      Object.keys(part.terms).forEach(function (term) {
        var list = part.terms[term];
        var target = out.terms[term] || (out.terms[term] = []);
        for (var i = 0; i < list.length; i += 2) { target.push(list[i] + offset, list[i + 1]); }
      });
    });
    out.years.sort(function (a, b) { return b - a; });
    return out;
  }
  var form = document.getElementById("search-form");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  if (!index || !form || !status || !list) { return; }

  var TOKEN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{2ebef}]+|[0-9A-Za-z]+/gu;
  var CJK_RUN = /^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{2ebef}]+$/u;
  var EXCERPT_BEFORE = 30;
  var EXCERPT_LENGTH = 120;
  var fields = {
    q: document.getElementById("search-q"),
    unit: document.getElementById("search-unit"),
    year: document.getElementById("search-year"),
    kind: document.getElementById("search-kind")
  };
  var unitNumber = {};
  index.units.forEach(function (row, n) { unitNumber[row[0]] = n; });

  function tokens(text) { return text.match(TOKEN) || []; }

  function queryTerms(query) {
    var out = [];
    tokens(query).forEach(function (token) {
      var found;
      if (CJK_RUN.test(token)) {
        var chars = Array.from(token);
        if (chars.length === 1) {
          found = chars;
        } else {
          found = [];
          for (var i = 0; i + 1 < chars.length; i++) { found.push(chars[i] + chars[i + 1]); }
        }
      } else {
        found = [token.toLowerCase()];
      }
      found.forEach(function (t) { if (out.indexOf(t) < 0) { out.push(t); } });
    });
    return out;
  }

  function bestWeight(mask) {
    var best = 0;
    for (var n = 0; n < index.weights.length; n++) {
      if ((mask & (1 << n)) && index.weights[n] > best) { best = index.weights[n]; }
    }
    return best;
  }

  /* Documents matching every term, best first; when none does, those matching the most
     terms (at least half). Same rule as search.iter_hits in Python. */
  function search(query) {
    var wanted = queryTerms(query);
    var matched = new Map();
    wanted.forEach(function (term) {
      var posting = Object.prototype.hasOwnProperty.call(index.terms, term) ? index.terms[term] : [];
      for (var i = 0; i < posting.length; i += 2) {
        var entry = matched.get(posting[i]) || [0, 0];
        entry[0] += 1;
        entry[1] += bestWeight(posting[i + 1]);
        matched.set(posting[i], entry);
      }
    });
    var most = 0;
    matched.forEach(function (entry) { if (entry[0] > most) { most = entry[0]; } });
    if (!wanted.length || most * 2 < wanted.length) { return { hits: [], partial: false }; }
    var hits = [];
    matched.forEach(function (entry, doc) {
      if (entry[0] === most) { hits.push({ doc: doc, score: entry[1] }); }
    });
    hits.sort(function (a, b) { return b.score - a.score || a.doc - b.doc; });
    return { hits: hits, partial: most < wanted.length };
  }

  function filtered(hits) {
    var unitId = fields.unit ? fields.unit.value : "";
    var unit = unitId ? (Object.prototype.hasOwnProperty.call(unitNumber, unitId) ? unitNumber[unitId] : -1) : null;
    var year = fields.year && fields.year.value ? Number(fields.year.value) : null;
    var kind = fields.kind && fields.kind.value ? fields.kind.value : null;
    return hits.filter(function (hit) {
      var d = index.docs[hit.doc];
      return (unit === null || d.units.indexOf(unit) >= 0) &&
        (year === null || d.year === year) && (kind === null || d.kind === kind);
    });
  }

  /* What to highlight: each word of the query as typed; a Chinese run that does not occur
     as a whole is highlighted by its pairs of characters. */
  function needles(query, text) {
    var out = [];
    tokens(query).forEach(function (token) {
      var lower = token.toLowerCase();
      if (text.toLowerCase().indexOf(lower) >= 0 || !CJK_RUN.test(token)) {
        out.push(lower);
      } else {
        queryTerms(token).forEach(function (t) { out.push(t); });
      }
    });
    out.sort(function (a, b) { return b.length - a.length; });
    return out.filter(function (n, i) { return n && out.indexOf(n) === i; });
  }

  function escapeRegExp(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

  function highlighted(text, query) {
    var fragment = document.createDocumentFragment();
    var parts = needles(query, text);
    if (!parts.length) { fragment.appendChild(document.createTextNode(text)); return fragment; }
    var pattern = new RegExp("(" + parts.map(escapeRegExp).join("|") + ")", "giu");
    text.split(pattern).forEach(function (piece, i) {
      if (!piece) { return; }
      if (i % 2 === 1) {
        var mark = document.createElement("mark");
        mark.textContent = piece;
        fragment.appendChild(mark);
      } else {
        fragment.appendChild(document.createTextNode(piece));
      }
    });
    return fragment;
  }

  function excerpt(doc, query) {
    var text = doc.text;
    var lower = text.toLowerCase();
    var first = -1;
    needles(query, text).forEach(function (n) {
      var at = lower.indexOf(n);
      if (at >= 0 && (first < 0 || at < first)) { first = at; }
    });
    if (first < 0) {
      // the match lies beyond the stored text (or only in the title, unit or honours)
      return doc.summary || (text.length > EXCERPT_LENGTH ? text.slice(0, EXCERPT_LENGTH) + "…" : text);
    }
    var start = Math.max(0, first - EXCERPT_BEFORE);
    var end = Math.min(text.length, start + EXCERPT_LENGTH);
    return (start > 0 ? "…" : "") + text.slice(start, end) + (end < text.length ? "…" : "");
  }

  function message(name, values) {
    var text = status.getAttribute("data-" + name) || "";
    Object.keys(values).forEach(function (key) { text = text.split("{" + key + "}").join(values[key]); });
    return text;
  }

  function element(tag, className, child) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    if (typeof child === "string") { el.textContent = child; } else if (child) { el.appendChild(child); }
    return el;
  }

  function show(query) {
    list.textContent = "";
    query = query.trim();
    if (!query) { status.textContent = message("empty", {}); return; }
    var result = search(query);
    var hits = filtered(result.hits);
    if (!hits.length) {
      status.textContent = message("none", { query: query });
      return;
    }
    status.textContent = message(result.partial ? "partial" : "count", { query: query, count: String(hits.length) });
    hits.forEach(function (hit) {
      var d = index.docs[hit.doc];
      var item = element("li", "search-result result-" + d.kind);
      var meta = [message("kind-" + d.kind, {}), message("year", { year: String(d.year) }), index.units[d.unit][1]];
      item.appendChild(element("p", "result-meta", meta.join(" · ")));
      var link = element("a", "", highlighted(d.title, query));
      link.href = d.url;
      item.appendChild(element("h2", "result-title", link));
      if (d.honors.length) {
        var honors = element("p", "honors");
        d.honors.forEach(function (h) { honors.appendChild(element("span", "honor", highlighted(h, query))); });
        item.appendChild(honors);
      }
      item.appendChild(element("p", "result-excerpt", highlighted(excerpt(d, query), query)));
      list.appendChild(item);
    });
  }

  function remember() {
    var params = new URLSearchParams();
    Object.keys(fields).forEach(function (name) {
      if (fields[name] && fields[name].value) { params.set(name, fields[name].value); }
    });
    var search = params.toString();
    try {
      history.replaceState(null, "", search ? "?" + search : location.pathname);
    } catch (e) { /* some browsers refuse this on file:// pages; the search still works */ }
  }

  function run() { show(fields.q.value); remember(); }

  var timer = null;
  form.addEventListener("submit", function (event) { event.preventDefault(); run(); });
  fields.q.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(run, 150);
  });
  ["unit", "year", "kind"].forEach(function (name) {
    if (fields[name]) { fields[name].addEventListener("change", run); }
  });

  var params = new URLSearchParams(location.search);
  Object.keys(fields).forEach(function (name) {
    var value = params.get(name);
    if (fields[name] && value !== null) { fields[name].value = value; }
  });
  show(fields.q.value);
}());
