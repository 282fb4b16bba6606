/* showcase site search: runs entirely in the browser on the index files of search/ (built by
   generator/site/search.py), each a script calling SHOWCASE_SEARCH_DATA(name, data), so it
   also works from file://. The manifest (index.js) comes first; a query then loads only the
   postings shards of its terms (t/<n>.js), and the results on screen load what they show
   (x/<n>.js: link, title, honours, summary and the start of the text, for the excerpt).
   Terms: pairs and runs of three Chinese characters, single characters in names, honours,
   units and tags; words of ASCII letters and digits lowercased. A query of one character
   looks for that character, of two for their pair, a longer run for overlapping runs of
   three (at every other character and at the end), at most MAX_TERMS terms in all; a year
   in the query filters by year. Keep in step with generator/site/search.py. */
(function () {
  "use strict";

  var form = document.getElementById("search-form");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var moreButton = document.getElementById("search-more");
  if (!form || !status || !list) { return; }

  var PAGE_SIZE = 20;
  var MAX_TERMS = 8;  /* terms looked up for one query: each may load a shard */
  var ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  var TOKEN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{2ebef}]+|[0-9A-Za-z]+/gu;
  var CJK_RUN = /^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{2ebef}]+$/u;
  var YEAR = /(?<![0-9])((?:19|20)[0-9]{2})(?![0-9])年?(?:度)?/g;
  var EXCERPT_BEFORE = 30;
  var EXCERPT_LENGTH = 120;
  var VALUE = {};
  for (var a = 0; a < ALPHABET.length; a++) { VALUE[ALPHABET[a]] = a; }
  var fields = {
    q: document.getElementById("search-q"),
    unit: document.getElementById("search-unit"),
    year: document.getElementById("search-year"),
    kind: document.getElementById("search-kind")
  };

  /* -- loading the index files ------------------------------------------------------------ */

  var loaded = {};
  var waiting = {};

  window.SHOWCASE_SEARCH_DATA = function (name, data) {
    loaded[name] = data;
    var callbacks = waiting[name] || [];
    delete waiting[name];
    callbacks.forEach(function (callback) { callback(); });
  };

  function load(name, done) {
    if (Object.prototype.hasOwnProperty.call(loaded, name)) { done(); return; }
    if (waiting[name]) { waiting[name].push(done); return; }
    waiting[name] = [done];
    var script = document.createElement("script");
    script.src = name + ".js";
    script.onerror = function () { window.SHOWCASE_SEARCH_DATA(name, null); };
    document.head.appendChild(script);
  }

  function loadAll(names, done) {
    var left = names.length;
    if (!left) { done(); return; }
    names.forEach(function (name) { load(name, function () { if (--left === 0) { done(); } }); });
  }

  /* -- the manifest ------------------------------------------------------------------------ */

  var index = null;

  function fixed(text, n, width) {
    var value = 0;
    for (var i = n * width; i < (n + 1) * width; i++) { value = value * 64 + VALUE[text[i]]; }
    return value;
  }

  function docYear(doc) { return index.first + fixed(index.docYears, doc, index.widths[0]); }
  function docUnit(doc) { return fixed(index.docUnits, doc, index.widths[1]); }
  function docKindRank(doc) { return fixed(index.docKinds, doc, 1); }
  function docKind(doc) { return index.kinds[docKindRank(doc)]; }

  /* -- terms and postings ------------------------------------------------------------------ */

  function tokens(text) { return text.match(TOKEN) || []; }

  function queryTerms(query) {
    var out = [];
    tokens(query).forEach(function (token) {
      var found = [];
      var chars = Array.from(token);
      if (!CJK_RUN.test(token)) {
        found = [token.toLowerCase()];
      } else if (chars.length < 3) {
        found = [token];
      } else {
        for (var i = 0; i < chars.length - 3; i += 2) { found.push(chars.slice(i, i + 3).join("")); }
        found.push(chars.slice(chars.length - 3).join(""));
      }
      found.forEach(function (t) { if (out.indexOf(t) < 0) { out.push(t); } });
    });
    if (out.length > MAX_TERMS) {
      var all = out;
      out = [];
      for (var n = 0; n < MAX_TERMS; n++) { out.push(all[Math.floor(n * (all.length - 1) / (MAX_TERMS - 1))]); }
    }
    return out;
  }

  /* The first year of the site named in the query, and the query without it. */
  function queryYear(query) {
    YEAR.lastIndex = 0;
    var match;
    while ((match = YEAR.exec(query)) !== null) {
      if (index.years.indexOf(Number(match[1])) >= 0) {
        var rest = query.slice(0, match.index) + " " + query.slice(match.index + match[0].length);
        return { year: Number(match[1]), rest: rest };
      }
    }
    return { year: null, rest: query };
  }

  function termShard(term) {
    var value = 0x811c9dc5;
    for (var ch of term) { value = Math.imul(value ^ ch.codePointAt(0), 0x01000193) >>> 0; }
    return value % index.shards;
  }

  function varints(text) {
    var out = [];
    var value = 0;
    var shift = 0;
    for (var i = 0; i < text.length; i++) {
      var digit = VALUE[text[i]];
      value += (digit & 31) * Math.pow(2, shift);
      if (digit >= 32) { shift += 5; } else { out.push(value); value = 0; shift = 0; }
    }
    return out;
  }

  function decodeIds(text) {
    var out = [];
    if (text[0] !== "~") {
      var doc = -1;
      varints(text).forEach(function (gap) { doc += gap; out.push(doc); });
      return out;
    }
    for (var n = 1; n < text.length; n++) {
      var bits = VALUE[text[n]];
      for (var bit = 0; bit < 6; bit++) { if (bits >> bit & 1) { out.push((n - 1) * 6 + bit); } }
    }
    return out;
  }

  /* document number -> weight of the best field the term occurs in */
  function posting(text) {
    var found = new Map();
    var parts = text.split("|");
    var body = index.weights[index.weights.length - 1];
    decodeIds(parts[0]).forEach(function (doc) { found.set(doc, body); });
    var values = parts.length > 1 ? varints(parts[1]) : [];
    var doc = -1;
    for (var i = 0; i < values.length; i += 2) {
      doc += values[i];
      found.set(doc, bestWeight(values[i + 1]));
    }
    return found;
  }

  function bestWeight(mask) {
    var best = 0;
    for (var n = 0; n < index.weights.length; n++) {
      if ((mask & (1 << n)) && index.weights[n] > best) { best = index.weights[n]; }
    }
    return best;
  }

  /* -- ranking ------------------------------------------------------------------------------ */

  /* Documents matching every term, best first; when none does, those matching the most
     terms (at least half). Same rule as search.search in Python. */
  function search(query, done) {
    var asked = queryYear(query);
    var wanted = queryTerms(asked.rest);
    if (!wanted.length) {
      var all = [];
      if (asked.year !== null) {
        for (var d = index.count - 1; d >= 0; d--) { if (docYear(d) === asked.year) { all.push(d); } }
        /* kind by kind; documents are numbered oldest first, so newest first within a kind */
        all.sort(function (a, b) { return docKindRank(a) - docKindRank(b) || b - a; });
      }
      done({ hits: all, partial: false, year: asked.year });
      return;
    }
    var shards = [];
    wanted.forEach(function (term) {
      var name = "t/" + termShard(term);
      if (shards.indexOf(name) < 0) { shards.push(name); }
    });
    loadAll(shards, function () { done(rank(wanted, asked.year)); });
  }

  function rank(wanted, year) {
    var matched = new Map();
    wanted.forEach(function (term) {
      var shard = loaded["t/" + termShard(term)] || {};
      if (!Object.prototype.hasOwnProperty.call(shard, term)) { return; }
      posting(shard[term]).forEach(function (weight, doc) {
        var entry = matched.get(doc) || [0, 0];
        entry[0] += 1;
        entry[1] += weight;
        matched.set(doc, entry);
      });
    });
    var most = 0;
    matched.forEach(function (entry) { if (entry[0] > most) { most = entry[0]; } });
    if (most * 2 < wanted.length) { return { hits: [], partial: false, year: year }; }
    var hits = [];
    matched.forEach(function (entry, doc) {
      var docYearValue = docYear(doc);
      if (entry[0] === most && (year === null || docYearValue === year)) {
        hits.push({ doc: doc, score: entry[1], year: docYearValue, kind: docKindRank(doc) });
      }
    });
    hits.sort(function (a, b) { return b.score - a.score || b.year - a.year || a.kind - b.kind || b.doc - a.doc; });
    return { hits: hits.map(function (h) { return h.doc; }), partial: most < wanted.length, year: year };
  }

  function within(doc, unit) {
    for (var u = docUnit(doc); u >= 0; u = index.units[u][2]) { if (u === unit) { return true; } }
    return false;
  }

  /* The year chosen in the filter, or null. */
  function filterYear() {
    return fields.year && fields.year.value ? Number(fields.year.value) : null;
  }

  function filtered(hits) {
    var unitId = fields.unit ? fields.unit.value : "";
    var unit = null;
    if (unitId) {
      unit = -1;
      index.units.forEach(function (row, n) { if (row[0] === unitId) { unit = n; } });
    }
    var year = filterYear();
    var kind = fields.kind && fields.kind.value ? fields.kind.value : null;
    return hits.filter(function (doc) {
      return (unit === null || within(doc, unit)) &&
        (year === null || docYear(doc) === year) && (kind === null || docKind(doc) === kind);
    });
  }

  /* -- showing results ------------------------------------------------------------------- */

  /* What to highlight: each word of the query as typed; a Chinese run that does not occur
     as a whole is highlighted by its pairs of characters. */
  function needles(query, text) {
    var out = [];
    var lowerText = text.toLowerCase();
    tokens(query).forEach(function (token) {
      var lower = token.toLowerCase();
      if (lowerText.indexOf(lower) >= 0 || !CJK_RUN.test(token)) {
        out.push(lower);
      } else {
        var chars = Array.from(token);
        for (var i = 0; i + 1 < chars.length; i++) { out.push(chars[i] + chars[i + 1]); }
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

  function excerpt(text, summary, query) {
    var lower = text.toLowerCase();
    var first = -1;
    needles(query, text).forEach(function (n) {
      var at = lower.indexOf(n);
      if (at >= 0 && (first < 0 || at < first)) { first = at; }
    });
    if (first < 0) { return summary; }  // the match is in the title, unit or honours
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

  function row(doc) {
    var data = loaded["x/" + doc];
    var kind = docKind(doc);
    var year = String(docYear(doc));
    var title = kind === "pledge" ? message("pledge-title", { branch: data[1], year: year }) : data[1];
    var item = element("li", "search-result result-" + kind);
    var meta = [message("kind-" + kind, {}), message("year", { year: year }), index.units[docUnit(doc)][1]];
    item.appendChild(element("p", "result-meta", meta.join(" · ")));
    var link = element("a", "", highlighted(title, shown.query));
    link.href = data[0];
    item.appendChild(element("h2", "result-title", link));
    if (data[2].length) {
      var honors = element("p", "honors");
      data[2].forEach(function (h) { honors.appendChild(element("span", "honor", highlighted(h, shown.query))); });
      item.appendChild(honors);
    }
    var text = excerpt(data[4], data[3], shown.query);
    item.appendChild(element("p", "result-excerpt", highlighted(text, shown.query)));
    return item;
  }

  var shown = { query: "", hits: [], next: 0, run: 0 };

  /* Add the next PAGE_SIZE results once what they show is loaded (then ``after``); the list
     is aria-busy meanwhile. */
  function showMore(after) {
    var run = shown.run;
    var docs = shown.hits.slice(shown.next, shown.next + PAGE_SIZE);
    shown.next += docs.length;
    list.setAttribute("aria-busy", "true");
    loadAll(docs.map(function (doc) { return "x/" + doc; }), function () {
      if (run !== shown.run) { return; }
      if (typeof after === "function") { after(); }
      docs.forEach(function (doc) { list.appendChild(row(doc)); });
      if (moreButton) { moreButton.hidden = shown.next >= shown.hits.length; }
      list.setAttribute("aria-busy", "false");
    });
  }

  function show(query) {
    var run = ++shown.run;
    list.textContent = "";
    list.removeAttribute("aria-busy");
    if (moreButton) { moreButton.hidden = true; }
    query = query.trim();
    if (!query) { status.textContent = message("empty", {}); return; }
    search(query, function (result) {
      if (run !== shown.run) { return; }
      var hits = filtered(result.hits);
      if (!hits.length) { status.textContent = message("none", { query: query }); return; }
      var year = result.year !== null ? result.year : filterYear();  // named or chosen
      var name = result.partial ? "partial" : (year !== null ? "count-year" : "count");
      shown.query = query;
      shown.hits = hits;
      shown.next = 0;
      showMore(function () {  // the count and the first results appear together
        status.textContent = message(name, { query: query, count: String(hits.length), year: String(year) });
      });
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

  function start() {
    index = loaded.index;
    if (!index) { return; }
    var timer = null;
    form.addEventListener("submit", function (event) { event.preventDefault(); run(); });
    fields.q.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(run, 150);
    });
    ["unit", "year", "kind"].forEach(function (name) {
      if (fields[name]) { fields[name].addEventListener("change", run); }
    });
    if (moreButton) { moreButton.addEventListener("click", showMore); }
    var params = new URLSearchParams(location.search);
    Object.keys(fields).forEach(function (name) {
      var value = params.get(name);
      if (fields[name] && value !== null) { fields[name].value = value; }
    });
    show(fields.q.value);
  }

  load("index", start);
}());
