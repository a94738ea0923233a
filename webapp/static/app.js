// Progressive enhancement only: every page works without this file.
// "Copy" buttons for what a report author pastes: a reference, the case study's own citation, a
// claim with its citation (a hidden [data-copy] element), the basket's claims and references.
// They put rich text (HTML, italics kept) and plain text on the clipboard, never list numbers.
function copyNode(node, button, done) {
  var clone = node.cloneNode(true);
  clone.querySelectorAll("button, .source-link, .cited-in, .Z3988, abbr.unapi-id").forEach(function (n) { n.remove(); });
  var blocks = clone.querySelectorAll("p, li, h3");
  var text = blocks.length ? Array.prototype.map.call(blocks, function (b) { return b.textContent.replace(/\s+/g, " ").trim(); }).join("\n")
                           : clone.textContent.replace(/\s+/g, " ").trim();
  var html = clone.innerHTML.trim();
  function finish() {
    button.textContent = done;
    button.setAttribute("aria-label", done + ": " + (button.getAttribute("aria-label") || "").replace(/^Copied: /, ""));
  }
  if (window.ClipboardItem && navigator.clipboard.write) {
    var item = new ClipboardItem({"text/html": new Blob([html], {type: "text/html"}),
                                  "text/plain": new Blob([text], {type: "text/plain"})});
    navigator.clipboard.write([item]).then(finish, function () { navigator.clipboard.writeText(text).then(finish); });
  } else {
    navigator.clipboard.writeText(text).then(finish);
  }
}

function addCopyButton(node, text, label, place) {
  if (!navigator.clipboard) return;
  var button = document.createElement("button");
  button.type = "button";
  button.className = "copy";
  button.textContent = text;
  button.setAttribute("aria-label", label);
  button.addEventListener("click", function () { copyNode(node, button, "Copied"); });
  place(button);
}

document.querySelectorAll("blockquote.self-citation, .references li").forEach(function (node) {
  var label = node.matches("blockquote") ? "Copy this case study's citation" : "Copy this reference";
  addCopyButton(node, "Copy", label, function (button) { node.appendChild(button); });
});

// [data-copy]: a shown element, its button before it. [data-copy-html]: an empty mark whose
// attribute holds the HTML to copy (a claim with its citation), read into an inert <template>.
document.querySelectorAll("[data-copy], [data-copy-html]").forEach(function (node) {
  var text = node.getAttribute("data-copy-label") || "Copy";
  var name = node.getAttribute("data-copy-name");
  var source = node;
  if (node.hasAttribute("data-copy-html")) {
    var inert = document.createElement("template");
    inert.innerHTML = node.getAttribute("data-copy-html");
    source = inert.content.ownerDocument.createElement("div");   // stays in the inert document
    source.appendChild(inert.content);
  }
  addCopyButton(source, text, name ? text + ": " + name : text, function (button) {
    if (source === node) node.parentNode.insertBefore(button, node); else node.appendChild(button);
  });
});

// A "Filters" toggle (button.filters-toggle, aria-controls naming the panel): on narrow screens the
// panel, which comes after the results, starts folded; opening it moves focus to its heading.
// Without this file the button stays hidden and the panel is shown after the results.
document.querySelectorAll("button.filters-toggle[aria-controls]").forEach(function (button) {
  var panel = document.getElementById(button.getAttribute("aria-controls"));
  if (!panel) return;
  var narrow = window.matchMedia("(max-width: 800px)");
  function show(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    panel.classList.toggle("folded", !open);
  }
  show(!narrow.matches);
  button.hidden = false;
  button.addEventListener("click", function () {
    var open = button.getAttribute("aria-expanded") !== "true";
    show(open);
    if (open) (panel.querySelector("[tabindex='-1']") || panel).focus();
  });
});

// Times written in UTC by the server (<time data-local datetime="...">) shown in the reader's own
// time zone, e.g. "1 Dec 2026, 22:53 CET"; without this file the UTC text stays.
document.querySelectorAll("time[data-local][datetime]").forEach(function (node) {
  var when = new Date(node.getAttribute("datetime"));
  if (isNaN(when.getTime())) return;
  node.textContent = when.toLocaleString(undefined, {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short"
  });
  node.title = node.getAttribute("datetime");
});
