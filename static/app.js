// Small progressive enhancements; every page works without them.
document.addEventListener("click", function (e) {
  var btn = e.target.closest("[data-copy]");
  if (!btn) return;
  var src = document.getElementById(btn.getAttribute("data-copy"));
  if (!src) return;
  var text = src.value !== undefined ? src.value : src.textContent;
  var done = function () {
    var old = btn.textContent;
    btn.textContent = "Copied";
    setTimeout(function () { btn.textContent = old; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done);
  } else {
    if (src.select) {
      src.select();
    } else { // a <pre>: select its text
      var range = document.createRange();
      range.selectNodeContents(src);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
    }
    document.execCommand("copy");
    done();
  }
});

// The webhook builder: select-all per group, "All …" toggles, and filters. Without this
// script the plain checkboxes still work.
function setupChoices(root) {
  if (root.dataset.ready) return;
  root.dataset.ready = "1";
  root.querySelectorAll("[data-js-only]").forEach(function (el) { el.hidden = false; });

  // A group's select-all box speaks for the boxes a person can see: while a filter hides
  // some, it reads "Select the 2 shown" and is ticked when those are.
  function groupBoxes(toggle) {
    return root.querySelectorAll('input[data-group="' + toggle.getAttribute("data-group-toggle") + '"]');
  }
  function shown(box) {
    var item = box.closest("[data-filter-item]");
    return !item || !item.hidden;
  }
  function syncGroup(toggle) {
    var all = groupBoxes(toggle), on = 0, visible = 0;
    all.forEach(function (b) {
      if (!shown(b)) return;
      visible++;
      if (b.checked) on++;
    });
    toggle.checked = visible > 0 && on === visible;
    toggle.indeterminate = on > 0 && on < visible;
    var words = toggle.parentNode.querySelector("[data-select-words]");
    var filtered = visible < all.length;
    if (words) words.textContent = filtered ? "Select the " + visible + " shown" : "Select all";
    toggle.setAttribute("aria-label", filtered
      ? "Select the " + visible + " shown " + toggle.getAttribute("data-group-noun")
      : "Select all " + toggle.getAttribute("data-group-noun"));
  }
  function syncAll(toggle) {
    var list = document.getElementById(toggle.getAttribute("data-all-toggle"));
    if (!list) return;
    list.setAttribute("aria-disabled", toggle.checked ? "true" : "false");
    list.querySelectorAll('input[type="checkbox"]').forEach(function (b) { b.disabled = toggle.checked; });
  }
  root.querySelectorAll("[data-group-toggle]").forEach(syncGroup);
  root.querySelectorAll("[data-all-toggle]").forEach(syncAll);

  root.addEventListener("change", function (e) {
    var t = e.target;
    if (t.hasAttribute("data-group-toggle")) {
      groupBoxes(t).forEach(function (b) { if (shown(b)) b.checked = t.checked; });
      syncGroup(t);
    }
    if (t.hasAttribute("data-all-toggle")) syncAll(t);
    if (t.hasAttribute("data-group")) {
      var g = root.querySelector('[data-group-toggle="' + t.getAttribute("data-group") + '"]');
      if (g) syncGroup(g);
    }
  });
  root.addEventListener("input", function (e) {
    var t = e.target;
    if (!t.hasAttribute("data-filter")) return;
    var q = t.value.trim().toLowerCase();
    var list = document.getElementById(t.getAttribute("data-filter"));
    list.querySelectorAll("[data-filter-item]").forEach(function (item) {
      item.hidden = q !== "" && item.textContent.toLowerCase().indexOf(q) === -1;
    });
    list.querySelectorAll("[data-group-box]").forEach(function (box) {
      var any = box.querySelector("[data-filter-item]:not([hidden])");
      box.hidden = q !== "" && !any;
    });
    list.querySelectorAll("[data-group-toggle]").forEach(syncGroup);
  });
}
// The top navigation folds behind the Menu button on phones.
function setupMenu() {
  var bar = document.querySelector(".topbar");
  var btn = bar && bar.querySelector("[data-menu-button]");
  if (!btn || bar.dataset.ready) return;
  bar.dataset.ready = "1";
  bar.classList.add("folding");
  btn.hidden = false;
  btn.addEventListener("click", function () {
    var open = bar.classList.toggle("open");
    btn.setAttribute("aria-expanded", open ? "true" : "false");
  });
}
function setupPage() {
  setupMenu();
  document.querySelectorAll("form#builder").forEach(setupChoices);
}
document.addEventListener("DOMContentLoaded", setupPage);
document.addEventListener("htmx:load", function (e) {
  if (e.target === document.body || e.target.querySelector && e.target.querySelector("form#builder")) setupPage();
});

// Live parts of a page (data-poll-visible) refresh only while the tab is visible.
document.addEventListener("htmx:beforeRequest", function (e) {
  if (document.hidden && e.detail.elt && e.detail.elt.hasAttribute("data-poll-visible")) e.preventDefault();
});
