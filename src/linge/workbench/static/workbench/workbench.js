// Linge workbench: live countdowns, select-all for bulk actions. No libraries.
(function () {
  "use strict";
  function span(seconds) {
    var late = seconds < 0, s = Math.abs(seconds);
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    var text = d ? d + "天" + h + "小时" : (h ? h + "小时" + m + "分" : m + "分钟");
    return (late ? "超期 " : "剩余 ") + text;
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (!isNaN(due)) { el.textContent = span(Math.round((due - now) / 1000)); }
    });
  }
  setInterval(tick, 30000);
  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input[name=numbers]").forEach(function (box) { box.checked = all.checked; });
    });
  }
})();

// On a phone the tab strip scrolls sideways: keep the open tab in sight.
document.addEventListener("DOMContentLoaded", function () {
  var on = document.querySelector(".tabs .on");
  if (on && on.scrollIntoView) on.scrollIntoView({block: "nearest", inline: "center"});
});

// Patrol form: the phone's position goes with the report, once the worker asks for it.
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("locate");
  if (!button || !navigator.geolocation) return;
  var shown = document.getElementById("located");
  button.addEventListener("click", function () {
    shown.textContent = button.dataset.busy || "…";
    navigator.geolocation.getCurrentPosition(function (where) {
      document.getElementById("id_lon").value = where.coords.longitude.toFixed(6);
      document.getElementById("id_lat").value = where.coords.latitude.toFixed(6);
      shown.textContent = button.dataset.done;
    }, function () {
      shown.textContent = button.dataset.failed;
    }, {enableHighAccuracy: true, timeout: 15000});
  });
});

// Entry forms: find the grid among a town's or the city's grids by the words or the
// position typed; the matches replace the list, best first (the full list comes back
// when the box is emptied). Without scripts the plain list still works.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("grid-search");
  var select = document.getElementById("id_grid");
  if (!box || !select) return;
  var shown = document.getElementById("grid-found");
  var all = Array.prototype.slice.call(select.options).map(function (o) { return o.cloneNode(true); });
  var timer = null, asked = 0;
  function fill(options) {
    var keep = select.value;
    select.innerHTML = "";
    options.forEach(function (o) { select.appendChild(o); });
    if (options.some(function (o) { return o.value === keep; })) select.value = keep;
  }
  function search() {
    var q = box.value.trim(), mine = ++asked;
    if (!q) { fill(all.map(function (o) { return o.cloneNode(true); })); shown.textContent = ""; return; }
    fetch(box.dataset.url + "?q=" + encodeURIComponent(q), {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (mine !== asked) return;
        var options = data.grids.map(function (g) {
          var o = document.createElement("option");
          o.value = String(g.id); o.textContent = g.name + "（" + g.code + "）";
          return o;
        });
        if (options.length) {
          fill(options);
          select.value = options[0].value;
          shown.textContent = box.dataset.found.replace("{n}", options.length);
        } else {
          shown.textContent = box.dataset.none;
        }
      });
  }
  box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 250); });
  box.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); clearTimeout(timer); search(); } });
});

// Exports: a large Excel file takes a while to build. Say so at once, and say when the
// download has started (the response sets the link's token in a cookie).
document.addEventListener("DOMContentLoaded", function () {
  var status = document.getElementById("export-status");
  if (!status) return;
  var waiting = null;
  document.querySelectorAll("a[data-export]").forEach(function (link) {
    var base = link.getAttribute("href");
    link.addEventListener("click", function (e) {
      if (waiting) { e.preventDefault(); return; }
      var token = Math.random().toString(36).slice(2, 12) + Date.now().toString(36);
      link.setAttribute("href", base + "&token=" + token);
      status.textContent = status.dataset.preparing;
      status.hidden = false;
      var started = Date.now();
      waiting = setInterval(function () {
        var done = document.cookie.split("; ").indexOf("linge_export=" + token) >= 0;
        if (done || Date.now() - started > 300000) {
          clearInterval(waiting); waiting = null;
          status.textContent = done ? status.dataset.started : "";
          setTimeout(function () { status.hidden = true; }, 4000);
        }
      }, 500);
    });
  });
});
