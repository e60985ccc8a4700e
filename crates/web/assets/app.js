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
              var days = (input.getAttribute("data-days") || "{0}").replace("{0}", it.time_limit_days);
              small.textContent = " · " + it.post + " · " + days;
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

// Pickers: a <select> (which works without this script) becomes a box to type in, with
// matches listed under it, grouped. With data-picker-url the server searches (the
// catalogue: words, pinyin); otherwise the options are filtered here by their label and
// data-keywords. With data-picker-from, what is typed in that field suggests matches too.
(function () {
  "use strict";
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }
  document.querySelectorAll("[data-picker]").forEach(function (box) {
    var select = box.querySelector("select");
    if (!select) return;
    var url = box.getAttribute("data-picker-url");
    var input = el("input");
    input.type = "search";
    input.id = select.id + "-q";
    input.autocomplete = "off";
    input.placeholder = box.getAttribute("data-picker-placeholder") || "";
    input.setAttribute("aria-controls", select.id + "-list");
    var label = box.querySelector("label");
    if (label) label.htmlFor = input.id;
    var chosen = el("div", "chosen");
    var chosenText = el("span");
    var clear = el("button", "btn secondary small", box.getAttribute("data-picker-clear") || "×");
    clear.type = "button";
    chosen.appendChild(chosenText);
    chosen.appendChild(clear);
    var maybe = el("div", "maybe");
    maybe.hidden = true;
    var list = el("ul", "suggest");
    list.id = select.id + "-list";
    list.hidden = true;
    select.hidden = true;
    select.parentNode.insertBefore(chosen, select);
    select.parentNode.insertBefore(input, select);
    select.parentNode.insertBefore(maybe, select);
    select.parentNode.insertBefore(list, select);

    function labelOf(value) {
      var o = select.querySelector('option[value="' + value + '"]');
      return o ? o.textContent : "";
    }
    function show() {
      var has = select.value !== "";
      chosen.hidden = !has;
      input.hidden = has;
      chosenText.textContent = has ? labelOf(select.value) : "";
      if (has) { list.hidden = true; maybe.hidden = true; }
    }
    function choose(value) {
      select.value = value;
      select.dispatchEvent(new Event("change", { bubbles: true }));
      input.value = "";
      show();
      clear.focus();
    }
    clear.addEventListener("click", function () {
      select.value = "";
      select.dispatchEvent(new Event("change", { bubbles: true }));
      show();
      input.focus();
    });
    // Matches as [{group, items: [{value, label, hint}]}].
    function render(groups) {
      list.textContent = "";
      var n = 0;
      groups.forEach(function (g) {
        if (!g.items.length) return;
        list.appendChild(el("li", "group", g.group));
        g.items.forEach(function (it) {
          var li = el("li");
          var b = el("button", null, it.label);
          b.type = "button";
          if (it.hint) { var s = el("span", "muted", " · " + it.hint); b.appendChild(s); }
          b.addEventListener("click", function () { choose(it.value); });
          li.appendChild(b);
          list.appendChild(li);
          n++;
        });
      });
      if (n === 0 && input.value.trim() !== "") {
        list.appendChild(el("li", "muted", box.getAttribute("data-picker-none") || ""));
      }
      list.hidden = list.children.length === 0;
      return n;
    }
    function groupByCategory(items) {
      var groups = [], at = {};
      items.forEach(function (it) {
        var g = it.category_name || "";
        if (!(g in at)) { at[g] = groups.length; groups.push({ group: g, items: [] }); }
        groups[at[g]].items.push({ value: String(it.id), label: it.name, hint: it.post });
      });
      return groups;
    }
    function local(q) {
      q = q.toLowerCase();
      var groups = [];
      select.querySelectorAll("optgroup").forEach(function (og) {
        var items = [];
        og.querySelectorAll("option").forEach(function (o) {
          var hay = (o.textContent + " " + (o.getAttribute("data-keywords") || "")).toLowerCase();
          if (items.length < 12 && q.split(/\s+/).every(function (w) { return hay.indexOf(w) !== -1; })) {
            items.push({ value: o.value, label: o.textContent });
          }
        });
        groups.push({ group: og.label, items: items });
      });
      return groups;
    }
    var timer = null, seq = 0;
    function search(q, into) {
      var mine = ++seq;
      if (!url) { render(local(q)); return; }
      fetch(url + "?limit=8&q=" + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (data) { if (mine === seq) into(data.items || []); })
        .catch(function () { list.hidden = true; });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (q === "") { list.hidden = true; return; }
      timer = setTimeout(function () {
        search(q, function (items) { render(groupByCategory(items)); });
      }, url ? 150 : 0);
    });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") {
        var first = list.querySelector("button");
        ev.preventDefault();
        if (first) first.click();
      } else if (ev.key === "Escape") {
        list.hidden = true;
      }
    });
    // Suggestions from another field (the resident's words): the first three matches.
    var from = document.getElementById(box.getAttribute("data-picker-from") || "");
    if (from && url) {
      var t2 = null;
      from.addEventListener("input", function () {
        clearTimeout(t2);
        t2 = setTimeout(function () {
          var q = from.value.trim();
          if (select.value !== "" || q.length < 2) { maybe.hidden = true; return; }
          fetch(url + "?limit=3&q=" + encodeURIComponent(q), { credentials: "same-origin" })
            .then(function (r) { return r.ok ? r.json() : { items: [] }; })
            .then(function (data) {
              maybe.textContent = "";
              var items = data.items || [];
              if (!items.length || select.value !== "") { maybe.hidden = true; return; }
              maybe.appendChild(el("span", "muted", box.getAttribute("data-picker-maybe") || ""));
              items.forEach(function (it) {
                var b = el("button", null, it.name);
                b.type = "button";
                b.addEventListener("click", function () { choose(String(it.id)); });
                maybe.appendChild(b);
              });
              maybe.hidden = false;
            })
            .catch(function () { maybe.hidden = true; });
        }, 350);
      });
    }
    show();
  });
})();

// The resident's "use my location": the browser asks the resident; only then is the
// place sent, as the finder's query. Nothing is sent without the resident's yes.
(function () {
  "use strict";
  var btn = document.getElementById("locate");
  if (!btn || !navigator.geolocation) return;
  var status = document.getElementById("locate-status");
  btn.hidden = false;
  btn.addEventListener("click", function () {
    status.textContent = btn.getAttribute("data-locating");
    navigator.geolocation.getCurrentPosition(function (pos) {
      var c = pos.coords;
      window.location.href = "/report?lat=" + c.latitude.toFixed(6) + "&lon=" + c.longitude.toFixed(6);
    }, function () {
      status.textContent = btn.getAttribute("data-denied");
    }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 });
  });
})();

// A page answering a form (a reveal, a refused move) puts the record's own address in the
// address bar, so that reloading shows the record instead of sending the form again.
(function () {
  "use strict";
  var c = document.getElementById("canonical");
  if (c && window.history && window.location.pathname !== c.getAttribute("data-href")) {
    window.history.replaceState(null, "", c.getAttribute("data-href"));
  }
})();

// A form sent back with errors: the first marked field is brought into view (above the
// sticky submit bar) and focused, so a phone user sees what to fix.
(function () {
  "use strict";
  var bad = document.querySelector(".field.has-error, fieldset.has-error");
  if (!bad) return;
  bad.scrollIntoView({ block: "center" });
  var input = bad.querySelector("input:not([type=hidden]), textarea, select");
  if (input && !input.hidden) input.focus({ preventScroll: true });
})();

// Visits in the stairwell: the service worker keeps the care pages a worker opened; the
// visit form sends through the API, and when there is no signal the visit waits on the
// phone (with the key made here, so a resend never makes two visits) and goes out when
// the connection returns. The queue is the signed-in user's alone.
(function () {
  "use strict";
  var user = document.body.getAttribute("data-user");
  if (!("serviceWorker" in navigator) || !window.fetch) return;
  if (!user) {
    // Signed out (or the session lapsed): the pages kept for the last user go, so that
    // the next person on this phone never sees them offline.
    if (navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage({ type: "forget" });
    return;
  }
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
  var KEY = "doorstep.visits." + user;
  function queue() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function save(q) { localStorage.setItem(KEY, JSON.stringify(q)); }
  // Visits the server refused when they were sent (the household left the block, a field
  // too long): kept until the worker opens that household, where the form is filled in
  // again for her to correct and save.
  function refused() {
    try { return JSON.parse(localStorage.getItem(KEY + ".refused") || "[]"); } catch (e) { return []; }
  }
  function saveRefused(list) { localStorage.setItem(KEY + ".refused", JSON.stringify(list)); }
  function newKey() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  function csrf() {
    var i = document.querySelector("input[name=_csrf]");
    return i ? i.value : "";
  }
  function send(v) {
    return fetch("/api/v1/visits", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(v),
    });
  }
  var status = document.getElementById("offline-status");
  function show(text) {
    if (!status) return;
    status.textContent = text;
    status.hidden = !text;
  }
  function pendingText() {
    var n = queue().length;
    return n && status ? status.getAttribute("data-pending").replace("{0}", n) : "";
  }
  var flushing = false;
  function flush() {
    if (flushing || !navigator.onLine) return;
    var q = queue();
    if (!q.length) return;
    flushing = true;
    var v = q[0];
    send(v).then(function (res) {
      flushing = false;
      // Sent (201), or sent before (200); a refusal (4xx) would never pass, so it is
      // kept aside with its answer rather than retried for ever.
      if (res.status === 401) { show(status && status.getAttribute("data-signin")); return; }
      var rest = queue().filter(function (x) { return x.client_key !== v.client_key; });
      if (!res.ok && res.status !== 409) saveRefused(refused().concat([v]));
      save(rest);
      show(rest.length ? pendingText() : (status ? status.getAttribute("data-sent") : ""));
      if (rest.length) flush();
    }).catch(function () { flushing = false; show(pendingText()); });
  }
  window.addEventListener("online", flush);
  flush();
  show(pendingText());

  var form = document.getElementById("visit-form");
  if (form) {
    var here = Number(form.getAttribute("data-household"));
    var back = refused().filter(function (x) { return x.household_id === here; })[0];
    if (back) {
      ["met", "notes", "finding"].forEach(function (k) {
        if (form.elements[k] && back[k]) form.elements[k].value = back[k];
      });
      saveRefused(refused().filter(function (x) { return x.client_key !== back.client_key; }));
      show(status && status.getAttribute("data-refused"));
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var data = new FormData(form);
      var v = {
        household_id: Number(form.getAttribute("data-household")),
        kind: data.get("kind"),
        met: data.get("met") || null,
        notes: data.get("notes") || null,
        finding: data.get("finding") || null,
        visited_at: new Date().toISOString(),
        client_key: newKey(),
      };
      function keepOnPhone() {
        var q = queue();
        q.push(v);
        save(q);
        form.reset();
        show(form.getAttribute("data-offline-saved") + " " + pendingText());
      }
      if (!navigator.onLine) { keepOnPhone(); return; }
      send(v).then(function (res) {
        if (res.status === 201 || res.status === 200) {
          return res.json().then(function (out) {
            window.location.href = out.request_id ? "/requests/" + out.request_id + "?taken=1"
              : window.location.pathname + "?logged=1";
          });
        }
        // Refused (a missing field, a lapsed sign-in): the form posts as it would
        // without this script, and the server's page says what to fix.
        form.submit();
      }).catch(keepOnPhone);
    });
  }

  // The block page: its due households are kept on the phone for the stairwell.
  var due = document.querySelectorAll("[data-precache]");
  if (due.length) {
    navigator.serviceWorker.ready.then(function (reg) {
      var urls = Array.prototype.map.call(due, function (a) { return a.getAttribute("href"); });
      if (reg.active) reg.active.postMessage({ type: "precache", urls: urls });
    });
  }
  // Signing out empties the kept pages (the visits waiting to be sent stay, for this
  // user's next sign-in on this phone).
  document.querySelectorAll("form[action='/logout']").forEach(function (f) {
    f.addEventListener("submit", function () {
      if (navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage({ type: "forget" });
    });
  });
})();
