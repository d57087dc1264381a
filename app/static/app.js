// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }
  function submit(id) {
    var form = document.getElementById(id);
    if (form) { form.requestSubmit ? form.requestSubmit() : form.submit(); return true; }
    return false;
  }
  function focus(id) {
    var el = document.getElementById(id);
    if (el) { el.focus(); return true; }
    return false;
  }
  document.addEventListener("keydown", function (e) {
    // Enter on a choice list inside an action form sends the form (keyboard path: verify).
    var active = document.activeElement;
    if (e.key === "Enter" && active && active.tagName === "SELECT" && active.closest(".action-form")) {
      e.preventDefault();
      var f = active.closest("form");
      f.requestSubmit ? f.requestSubmit() : f.submit();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || typing(document.activeElement)) return;
    var done = false;
    switch (e.key) {
      case "n": done = submit("next-form"); break;
      case "v": done = focus("verify-method"); break;
      case "r": done = focus("complete-button"); break;
      case "q": window.location.href = "/queue"; done = true; break;
      case "b": if (document.querySelector('a[href="/board"]')) { window.location.href = "/board"; done = true; } break;
      case "/": done = focus("filter-kind") || !!(document.querySelector(".filters select") && document.querySelector(".filters select").focus()); break;
    }
    if (done) e.preventDefault();
  });
  // A refused action: bring its first error into view and focus its field.
  window.addEventListener("DOMContentLoaded", function () {
    var error = document.querySelector(".field-error");
    if (error) {
      error.scrollIntoView({ block: "center" });
      var form = error.closest("form");
      var field = form && form.querySelector("input:not([type=hidden]), select, textarea");
      if (field) field.focus();
    }
    // The queue's "select all on this page" ticks every row's box; unticking a row unticks it
    // (without this file the server reads the box itself and takes every row of the page).
    var all = document.getElementById("select-all");
    if (all) {
      var boxes = document.querySelectorAll('#queue-table input[name="ids"]');
      all.addEventListener("change", function () {
        boxes.forEach(function (b) { b.checked = all.checked; });
      });
      boxes.forEach(function (b) {
        b.addEventListener("change", function () { if (!b.checked) all.checked = false; });
      });
    }
    // The supervisors' board refreshes itself without reloading the page.
    var board = document.getElementById("board");
    if (board) {
      var seconds = parseInt(board.getAttribute("data-refresh") || "30", 10);
      setInterval(function () {
        fetch(window.location.pathname, { headers: { "X-Partial": "board" }, credentials: "same-origin" })
          .then(function (r) { if (r.status === 401) { window.location.reload(); return null; } return r.ok ? r.text() : null; })
          .then(function (html) {
            if (html === null) return;
            board.innerHTML = html;
            var n = board.querySelector(".tile-breached .n");
            var count = n ? parseInt(n.textContent, 10) : 0;
            document.title = (count ? "(" + count + " BREACHED) " : "") + "Board · Release of Information";
          })
          .catch(function () {});
      }, Math.max(seconds, 5) * 1000);
    }
  });
})();
