// Fills the "More like this", "Related" and "Popular" boxes of a page from newsrec's HTTP API.
// A site can include it as is:
//   <ol data-list="more_like_this"></ol> <ol data-list="related"></ol> <ol data-list="popular"></ol>
//   <script src="/demo/assets/related.js" data-article-id="ID" data-k="5"
//           data-api="https://newsrec.example.com" defer></script>
// Items link to the article's own url; one with no http(s) url links to data-pages + its id.
// Boxes the server already rendered (GET /articles/{id}/related.html) are left as they are.
// Text goes in with textContent only, never as HTML.
(function () {
  "use strict";
  var script = document.currentScript;
  var articleId = script.dataset.articleId;
  var k = script.dataset.k || "5";
  var api = script.dataset.api || "";
  var pages = script.dataset.pages || "/demo/articles/";

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function href(item) {
    if (item.url) {
      try {
        var parsed = new URL(item.url);
        if (parsed.protocol === "http:" || parsed.protocol === "https:") return parsed.href;
      } catch (ignored) {
        // not a URL: fall through to the article's page
      }
    }
    return pages + encodeURIComponent(item.id);
  }

  function meta(item) {
    var parts = [];
    if (item.section) parts.push(item.section);
    if (item.published_at) parts.push(item.published_at.slice(0, 10));
    return parts.join(" · ");
  }

  function fill(list, items) {
    list.textContent = "";
    var box = list.closest(".box");
    if (!items.length) {
      // Nothing close enough: newsrec leaves a list short rather than pad it, and the page
      // leaves the empty box out rather than show an empty frame.
      if (box) box.hidden = true;
      else list.appendChild(element("li", "empty", "No closely related stories."));
      return;
    }
    if (box) box.hidden = false;
    items.forEach(function (item) {
      var li = element("li", "item");
      li.dataset.id = item.id;
      var link = element("a", "title", item.title);
      link.href = href(item);
      li.appendChild(link);
      li.appendChild(element("span", "meta", meta(item)));
      li.appendChild(element("p", "snippet", item.snippet));
      list.appendChild(li);
    });
  }

  if (document.querySelector(".newsrec-boxes")) {
    document.body.dataset.loaded = "true";  // rendered by the server: nothing to fetch
    return;
  }

  var url = api + "/articles/" + encodeURIComponent(articleId) + "/related?k=" + encodeURIComponent(k);
  fetch(url, { headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) throw new Error("newsrec answered HTTP " + response.status);
      return response.json();
    })
    .then(function (data) {
      document.querySelectorAll("[data-list]").forEach(function (list) {
        fill(list, data[list.dataset.list] || []);
      });
      var version = document.getElementById("index-version");
      if (version) version.textContent = data.index_version;
      document.body.dataset.loaded = "true";
    })
    .catch(function (error) {
      document.querySelectorAll("[data-list]").forEach(function (list) {
        list.textContent = "";
        list.appendChild(element("li", "error", String(error.message || error)));
      });
      document.body.dataset.loaded = "error";
    });
})();
