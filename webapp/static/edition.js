// The static edition's search (kb publish): the words, filters (`theme=...&country=...`, values of
// one facet OR-ed, facets AND-ed) and sort of the server's /search, read from the page's URL and
// answered by Pagefind in the browser from the edition's own files. Filters and pages are links, so
// the back button and a bookmarked search work as on the server.
(function () {
  "use strict";
  var form = document.getElementById("edition-search");
  if (!form) return;
  var data = JSON.parse(document.getElementById("edition-data").textContent);
  var status = document.getElementById("edition-status");
  var hitsList = document.getElementById("edition-hits");
  var more = document.getElementById("edition-more");
  var relaxedNote = document.getElementById("edition-relaxed");
  var chipsList = document.getElementById("edition-chips");
  var facetsBox = document.getElementById("edition-facets");
  var params = new URLSearchParams(location.search);
  var query = (params.get("q") || "").trim();
  var sort = params.get("sort") || "relevance";
  var PAGE = 20;
  var SORTS = {period: {year: "desc"}, updated: {updated: "desc"}};

  form.elements.q.value = query;
  form.elements.sort.value = SORTS[sort] ? sort : "relevance";

  function label(param, value) {
    var names = data.labels[param] || {};
    return names[value] || value;
  }

  function chosenFilters() {
    var filters = {};
    data.facets.forEach(function (facet) {
      var values = params.getAll(facet.param).filter(Boolean);
      if (values.length) filters[facet.param] = {any: values};
    });
    return filters;
  }

  function toggled(param, value) {   // this search with `value` added to (or removed from) `param`
    var next = new URLSearchParams(location.search);
    var values = next.getAll(param);
    next.delete(param);
    (values.indexOf(value) >= 0 ? values.filter(function (v) { return v !== value; }) : values.concat([value]))
      .forEach(function (v) { next.append(param, v); });
    return "?" + next.toString();
  }

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function showChips(filters) {
    var any = false;
    Object.keys(filters).forEach(function (param) {
      filters[param].any.forEach(function (value) {
        any = true;
        var item = element("li");
        var shown = param.replace(/_/g, " ") + ": " + label(param, value);
        var link = element("a", {"class": "chip", href: toggled(param, value), "aria-label": "Remove filter " + shown}, shown + " ");
        link.appendChild(element("span", {"aria-hidden": "true"}, "×"));
        item.appendChild(link);
        chipsList.appendChild(item);
      });
    });
    if (any) {
      var clear = element("li");
      clear.appendChild(element("a", {"class": "chip clear", href: query ? "?" + new URLSearchParams({q: query}) : "?"}, "Clear all filters"));
      chipsList.appendChild(clear);
      chipsList.hidden = false;
    }
  }

  function showFacets(counts, filters) {
    data.facets.forEach(function (facet) {
      var values = counts[facet.param] || {};
      var chosen = (filters[facet.param] || {any: []}).any;
      var shown = Object.keys(values).filter(function (v) { return values[v] > 0 || chosen.indexOf(v) >= 0; })
        .sort(function (a, b) { return values[b] - values[a] || label(facet.param, a).localeCompare(label(facet.param, b)); });
      if (!shown.length) return;
      var section = element("section", {"class": "facet"});
      section.appendChild(element("h2", {}, facet.label));
      var list = element("ul");
      shown.forEach(function (value) {
        var item = element("li");
        var attributes = {href: toggled(facet.param, value)};
        if (chosen.indexOf(value) >= 0) { attributes["aria-current"] = "true"; attributes["class"] = "chosen"; }
        item.appendChild(element("a", attributes, label(facet.param, value)));
        item.appendChild(document.createTextNode(" "));
        item.appendChild(element("span", {"class": "count"}, String(values[value])));
        list.appendChild(item);
      });
      section.appendChild(list);
      facetsBox.appendChild(section);
    });
  }

  function showHits(results, start) {
    return Promise.all(results.slice(start, start + PAGE).map(function (r) { return r.data(); })).then(function (pages) {
      pages.forEach(function (page) {
        var item = element("li", {"class": "hit"});
        var heading = element("h2");
        heading.appendChild(element("a", {href: page.url}, page.meta.title || page.url));
        item.appendChild(heading);
        var snippet = element("p", {"class": "snippet"});
        snippet.innerHTML = page.excerpt || "";     // Pagefind's excerpt: the page's own text, escaped, words in <mark>
        if (!snippet.textContent.trim()) snippet.textContent = page.meta.summary || "";
        item.appendChild(snippet);
        hitsList.appendChild(item);
      });
      more.hidden = start + PAGE >= results.length;
    });
  }

  // No case has every word: the cases with most of them, those with the most first (as the server does).
  function relaxed(pagefind, words, options) {
    return Promise.all(words.map(function (word) { return pagefind.search(word, options); })).then(function (searches) {
      var found = {};
      searches.forEach(function (search) {
        search.results.forEach(function (r) {
          var seen = found[r.id] || (found[r.id] = {result: r, have: 0, score: 0});
          seen.have += 1;
          seen.score += r.score;
        });
      });
      var ranked = Object.keys(found).map(function (id) { return found[id]; })
        .sort(function (a, b) { return b.have - a.have || b.score - a.score; });
      return {results: ranked.map(function (f) { return f.result; }), most: ranked.length ? ranked[0].have : 0,
              filters: searches[0].filters};
    });
  }

  function run(pagefind) {
    var filters = chosenFilters();
    var options = {filters: filters};
    if (SORTS[sort]) options.sort = SORTS[sort];
    if (!query && !SORTS[sort]) options.sort = SORTS.period;     // every case: newest period first
    showChips(filters);
    // the counts of a search cover only the filters Pagefind has loaded: load them all first
    return pagefind.filters().then(function () {
      return pagefind.search(query || null, options);
    }).then(function (search) {
      var words = query.split(/\s+/).filter(Boolean);
      if (!search.results.length && words.length > 1) {
        return relaxed(pagefind, words, options).then(function (found) {
          if (found.results.length) {
            relaxedNote.textContent = "No case has all " + words.length + " words of “" + query + "”; showing the cases " +
              "with some of them, those with the most first (the best have " + found.most + " of " + words.length + ").";
            relaxedNote.hidden = false;
          }
          return found;
        });
      }
      return search;
    }).then(function (search) {
      var n = search.results.length;
      status.textContent = n + " case" + (n === 1 ? "" : "s") + (query ? " for “" + query + "”" : "");
      if (!n) {
        var none = element("li", {"class": "none"}, "No case study matches" + (query ? " “" + query + "”" : "") +
                           (Object.keys(filters).length ? " with these filters" : "") + ".");
        hitsList.appendChild(none);
      }
      showFacets(search.filters || {}, filters);
      var shown = 0;
      more.addEventListener("click", function () {
        shown += PAGE;
        showHits(search.results, shown).then(function () {
          var next = hitsList.children[shown];
          if (next) { next.querySelector("a").focus(); }
        });
      });
      return showHits(search.results, 0);
    });
  }

  var root = new URL("../", location.href);       // this page is search/index.html in the edition
  import(new URL("pagefind/pagefind.js", root).href).then(function (pagefind) {
    return pagefind.options({baseUrl: root.pathname}).then(function () { return run(pagefind); });
  }).catch(function (error) {
    status.textContent = "";
    document.getElementById("edition-offline").hidden = false;
    if (window.console) console.warn("edition search:", error);
  });
})();
