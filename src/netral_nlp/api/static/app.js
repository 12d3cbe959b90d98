// A little help on top of plain forms (they work without this file):
// Ctrl/Cmd+Enter submits the check form; in the queue j/k move between items and
// c/d confirm or dismiss the current one; buttons are disabled once a form is sent.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    // After the form data is taken (the pressed button's value included), not before.
    setTimeout(function () {
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    }, 0);
  });

  var text = document.getElementById("text");
  if (text) {
    text.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        text.form.requestSubmit();
      }
    });
  }

  var items = Array.prototype.slice.call(document.querySelectorAll("[data-item]"));
  if (!items.length) { return; }
  var current = -1;
  function select(i) {
    if (i < 0 || i >= items.length) { return; }
    if (current >= 0) { items[current].classList.remove("active"); }
    current = i;
    items[i].classList.add("active");
    items[i].focus();
    items[i].scrollIntoView({ block: "nearest" });
  }
  var hash = location.hash && document.getElementById(location.hash.slice(1));
  if (hash && items.indexOf(hash) >= 0) { select(items.indexOf(hash)); }

  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key === "j") { select(current + 1); }
    else if (event.key === "k") { select(Math.max(current - 1, 0)); }
    else if ((event.key === "c" || event.key === "d") && current >= 0) {
      var button = items[current].querySelector('button[data-key="' + event.key + '"]');
      if (button) { event.preventDefault(); button.click(); }
    }
  });
})();
