// Progressive enhancement only: every page works without this file.
// Adds a "Copy" button next to citations meant for pasting into a report.
document.querySelectorAll("blockquote.self-citation, .references li").forEach(function (node) {
  if (!navigator.clipboard) return;
  var button = document.createElement("button");
  button.type = "button";
  button.className = "copy";
  button.textContent = "Copy";
  button.setAttribute("aria-label", "Copy this reference");
  button.addEventListener("click", function () {
    var text = node.cloneNode(true);
    text.querySelectorAll("button, .source-link").forEach(function (n) { n.remove(); });
    navigator.clipboard.writeText(text.textContent.trim()).then(function () { button.textContent = "Copied"; });
  });
  node.appendChild(button);
});
