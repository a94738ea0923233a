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
    text.querySelectorAll("button, .source-link, .cited-in").forEach(function (n) { n.remove(); });
    navigator.clipboard.writeText(text.textContent.trim()).then(function () { button.textContent = "Copied"; });
  });
  node.appendChild(button);
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
