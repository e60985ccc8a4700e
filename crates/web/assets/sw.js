// Doorstep's service worker: the stairwell often has no signal. It keeps the app shell
// (styles, script, icon) and the care pages a worker has opened (her block's due list, its
// buildings and households, masked as always) so that the visit form opens offline; the visit
// itself waits on the phone (app.js) until the connection returns. Pages the server marks
// no-store (a revealed number) are never kept. Signing out empties the cache.
"use strict";
var CACHE = "doorstep-__VERSION__";
var SHELL = ["/static/app.css?v=__VERSION__", "/static/app.js?v=__VERSION__", "/static/favicon.svg"];
var MAX_PRECACHE = 60;

self.addEventListener("install", function (ev) {
  ev.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(SHELL); }).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener("activate", function (ev) {
  ev.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function carePage(url) {
  return url.pathname === "/care" ||
    /^\/care\/(blocks\/\d+(\/buildings\/\d+)?|households\/\d+)$/.test(url.pathname);
}

function keep(res) {
  var cc = res.headers.get("Cache-Control") || "";
  return res.ok && !res.redirected && cc.indexOf("no-store") === -1;
}

function offlinePage() {
  var html = "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
    "<link rel=\"stylesheet\" href=\"/static/app.css?v=__VERSION__\"><title>没有网络 · 家门口</title><main><div class=\"card\">" +
    "<h1>没有网络</h1><p>这一页没有存在手机上。已打开过的块区和住户页面可以离线查看和记录走访，有信号后再试。</p>" +
    "<p lang=\"en\">No connection. Block and household pages opened before work offline; try again when the signal returns.</p>" +
    "<p><a href=\"/care\">我的块区 · My block</a></p></div></main></html>";
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

self.addEventListener("fetch", function (ev) {
  var req = ev.request;
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf("/static/") === 0) {
    ev.respondWith(caches.match(req).then(function (hit) { return hit || fetch(req); }));
    return;
  }
  if (req.mode !== "navigate" && !carePage(url)) return;
  if (!carePage(url)) {
    // Other pages stay online-only; offline they say so instead of the browser's error.
    ev.respondWith(fetch(req).catch(offlinePage));
    return;
  }
  // Care pages: the network first (always the freshest), the phone's copy offline.
  ev.respondWith(fetch(req).then(function (res) {
    if (keep(res)) {
      var copy = res.clone();
      caches.open(CACHE).then(function (c) { c.put(url.pathname, copy); });
    }
    return res;
  }).catch(function () {
    return caches.match(url.pathname).then(function (hit) { return hit || offlinePage(); });
  }));
});

self.addEventListener("message", function (ev) {
  var data = ev.data || {};
  if (data.type === "precache" && Array.isArray(data.urls)) {
    // The due households of the block page, fetched now so they open in the stairwell.
    // Only the ones not kept yet: a page opened online is refreshed by the network-first
    // rule anyway, so a block page does not re-download its whole due list each time.
    var urls = data.urls.slice(0, MAX_PRECACHE);
    ev.waitUntil(caches.open(CACHE).then(function (c) {
      return Promise.all(urls.map(function (u) {
        var path = new URL(u, self.location.origin).pathname;
        return c.match(path).then(function (hit) {
          if (hit) return;
          return fetch(u, { credentials: "same-origin" }).then(function (res) {
            if (keep(res)) return c.put(path, res);
          });
        }).catch(function () {});
      }));
    }).then(function () {
      if (ev.source) ev.source.postMessage({ type: "precached", count: urls.length });
    }));
  } else if (data.type === "forget") {
    ev.waitUntil(caches.delete(CACHE));
  }
});
