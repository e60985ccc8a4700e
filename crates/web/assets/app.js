// Doorstep: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Buttons with data-confirm ask before submitting their form.
  document.addEventListener("submit", function (ev) {
    var btn = ev.submitter || ev.target.querySelector("[data-confirm]");
    var msg = btn && btn.getAttribute && btn.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
    }
  });
  // Tables with a data-filter input narrow their rows as you type.
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    if (!table) return;
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        tr.hidden = q !== "" && tr.textContent.toLowerCase().indexOf(q) === -1;
      });
    });
  });
  // Selects with data-autosubmit submit their form on change (filters).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
    sel.addEventListener("change", function () { sel.form.submit(); });
  });
})();

// As-you-type suggestions: inputs with data-suggest query that URL and list the answers.
(function () {
  "use strict";
  document.querySelectorAll("input[data-suggest]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("data-suggest-list"));
    if (!list) return;
    var timer = null, seq = 0;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        var mine = ++seq;
        if (q === "") { list.hidden = true; list.textContent = ""; return; }
        fetch(input.getAttribute("data-suggest") + "?limit=8&q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { items: [] }; })
          .then(function (data) {
            if (mine !== seq) return;
            list.textContent = "";
            (data.items || []).forEach(function (it) {
              var li = document.createElement("li");
              var a = document.createElement("a");
              a.href = "/catalogue/" + it.id;
              a.textContent = it.name;
              var small = document.createElement("span");
              small.className = "muted";
              small.textContent = " · " + it.post + " · " + it.time_limit_days;
              li.appendChild(a);
              li.appendChild(small);
              list.appendChild(li);
            });
            list.hidden = list.children.length === 0;
          })
          .catch(function () { list.hidden = true; });
      }, 150);
    });
  });
})();

// Likely duplicates at intake: as the description, building or item change, ask the
// server for open requests nearby in similar words and list them (merging happens on
// the new request's page, after intake).
(function () {
  "use strict";
  var box = document.getElementById("dup-suggest");
  if (!box) return;
  var form = box.closest("form");
  var list = box.querySelector("ul");
  var timer = null, seq = 0;
  function val(name) {
    var el = form.querySelector("[name=" + name + "]");
    return el ? el.value.trim() : "";
  }
  function check() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var desc = val("description"), building = val("building_id");
      var mine = ++seq;
      if (desc.length < 2 || building === "") { box.hidden = true; return; }
      var q = "?description=" + encodeURIComponent(desc) + "&building_id=" + encodeURIComponent(building);
      var item = val("service_item_id"), nb = val("neighbourhood_id");
      if (item) q += "&service_item_id=" + encodeURIComponent(item);
      if (nb) q += "&neighbourhood_id=" + encodeURIComponent(nb);
      fetch(box.getAttribute("data-dup-url") + q, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (data) {
          if (mine !== seq) return;
          list.textContent = "";
          (data.items || []).forEach(function (it) {
            var li = document.createElement("li");
            var a = document.createElement("a");
            a.href = "/requests/" + it.id;
            a.target = "_blank";
            a.textContent = it.tracking_code;
            li.appendChild(a);
            li.appendChild(document.createTextNode(" · " + it.description));
            list.appendChild(li);
          });
          box.hidden = list.children.length === 0;
        })
        .catch(function () { box.hidden = true; });
    }, 250);
  }
  ["description", "building_id", "service_item_id"].forEach(function (n) {
    var el = form.querySelector("[name=" + n + "]");
    if (el) { el.addEventListener("input", check); el.addEventListener("change", check); }
  });
})();
