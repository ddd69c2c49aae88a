/* Report form: category picker and suggestion, photos, location, nearby duplicates,
   and a draft kept on the phone that is sent again when the network comes back. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var me = $("rjs").dataset, form = $("rf"), sel = $("cat"), DRAFT = "linge.draft";
  var cats = JSON.parse($("cats").textContent), pending = false, checked = false;
  var draft = {};
  try { draft = JSON.parse(localStorage.getItem(DRAFT) || "{}"); } catch (e) { draft = {}; }

  function save() {
    draft.description = $("desc").value; draft.category = sel.value; draft.key = $("key").value;
    draft.lon = $("lon").value; draft.lat = $("lat").value; draft.grid = $("grid").value;
    if ($("rphone")) draft.phone = $("rphone").value;
    try { localStorage.setItem(DRAFT, JSON.stringify(draft)); } catch (e) {
      draft.photos = []; try { localStorage.setItem(DRAFT, JSON.stringify(draft)); } catch (e2) { /* full */ }
    }
  }
  function clear() { try { localStorage.removeItem(DRAFT); } catch (e) { /* ignore */ } }
  function show(msg) { var e = $("error"); e.textContent = msg; e.hidden = !msg; if (msg) e.scrollIntoView(); }

  function fill(q) {
    var keep = sel.value; sel.textContent = "";
    var first = document.createElement("option"); first.value = ""; first.textContent = "—";
    sel.appendChild(first);
    cats.forEach(function (g) {
      var grp = document.createElement("optgroup"); grp.label = g.n;
      g.c.forEach(function (c) {
        if (q && c[1].indexOf(q) < 0 && g.n.indexOf(q) < 0) return;
        var o = document.createElement("option"); o.value = c[0]; o.textContent = c[1];
        grp.appendChild(o);
      });
      if (grp.children.length) sel.appendChild(grp);
    });
    sel.value = keep;
  }
  function pick(id) { $("cq").value = ""; fill(""); sel.value = String(id); save(); }
  $("cq").addEventListener("input", function () {
    fill(this.value.trim());
    if (this.value.trim() && sel.options.length === 2) sel.selectedIndex = 1;
  });

  var timer = null;
  $("desc").addEventListener("input", function () {
    save(); clearTimeout(timer);
    var q = this.value.trim();
    timer = setTimeout(function () {
      if (q.length < 2) return;
      fetch(me.suggest + "?q=" + encodeURIComponent(q)).then(function (r) { return r.json(); })
        .then(function (d) {
          var box = $("sug"), span = box.querySelector("span"); span.textContent = "";
          d.suggestions.forEach(function (s) {
            var b = document.createElement("button"); b.type = "button"; b.className = "btn2";
            b.textContent = s.group + " · " + s.name;
            b.onclick = function () { pick(s.id); };
            span.appendChild(b); span.appendChild(document.createTextNode(" "));
          });
          box.hidden = !d.suggestions.length;
          if (d.suggestions.length && !sel.value) pick(d.suggestions[0].id);
        }).catch(function () { /* offline: no suggestion */ });
    }, 500);
  });
  sel.addEventListener("change", save);

  function thumbs(urls) {
    var box = $("thumbs"); box.textContent = "";
    urls.forEach(function (u) { var i = new Image(); i.src = u; box.appendChild(i); });
  }
  // Photos go up at the size the server keeps (2,000 px, as cases/photos.py stores
  // them): a 12 MP phone photo of 3-5 MB goes as a few hundred KB, which on a weak signal
  // is a report sent rather than given up. Only a JPEG is redrawn, and the copy carries
  // no metadata, so the position the resident lets us use is read here from the
  // originals' EXIF, the first photo's that has one, as the server would. Anything else
  // (PNG, HEIC, a photo the browser cannot draw) goes as it is and the server decodes it.
  // A browser that does not turn a photo upright by its EXIF orientation when drawing
  // it (before Chrome 81, Safari 13.1) would send it sideways: it sends the original.
  var UPLOAD_SIDE = 2000, photos = { files: [], ready: Promise.resolve([]) };
  var UPRIGHT = !!(window.CSS && CSS.supports && CSS.supports("image-orientation", "from-image"));
  function drawn(img, side, type, quality, done) {
    var s = Math.min(1, side / Math.max(img.width, img.height)), c = document.createElement("canvas");
    c.width = Math.round(img.width * s); c.height = Math.round(img.height * s);
    c.getContext("2d").drawImage(img, 0, 0, c.width, c.height);
    if (!done) return c.toDataURL(type, quality);
    if (c.toBlob) c.toBlob(done, type, quality); else done(null);
  }
  function head(file) {  // the first 256 KB, where a JPEG's EXIF block is
    var part = file.slice(0, 262144);
    return part.arrayBuffer ? part.arrayBuffer().catch(function () { return null; }) : Promise.resolve(null);
  }
  function prepare(file) {
    return head(file).then(function (buf) {
      var jpeg = !!buf && buf.byteLength > 2 && new DataView(buf).getUint16(0) === 0xFFD8;
      var gps = jpeg ? exifGps(buf) : null;
      return new Promise(function (ok) {
        var img = new Image(), url = URL.createObjectURL(file), copy = null;
        var asIs = function () { ok({ file: file, draft: copy, upload: file, gps: gps }); };
        img.onload = function () {
          URL.revokeObjectURL(url);
          try {
            copy = drawn(img, 1024, "image/jpeg", 0.7);
            if (!jpeg || !UPRIGHT || Math.max(img.width, img.height) <= UPLOAD_SIDE) { asIs(); return; }
            drawn(img, UPLOAD_SIDE, "image/jpeg", 0.85, function (blob) {
              ok({ file: file, draft: copy, upload: blob || file, gps: gps });
            });
          } catch (e) { asIs(); }  // out of memory for the canvas: the original goes
        };
        img.onerror = function () { URL.revokeObjectURL(url); asIs(); };
        img.src = url;
      });
    });
  }
  // (lon, lat) from a JPEG's EXIF GPS block, read as the server reads it (cases/photos.py
  // _gps), or null. Reads only inside the APP1 segment that holds the block.
  function exifGps(buf) {
    try {
      var v = new DataView(buf);
      for (var p = 2; p + 10 <= v.byteLength; p += 2 + v.getUint16(p + 2)) {
        var marker = v.getUint16(p);
        if (marker === 0xFFDA || (marker & 0xFF00) !== 0xFF00) return null;  // pixels: no EXIF
        if (marker === 0xFFE1 && v.getUint32(p + 4) === 0x45786966) {
          return tiffGps(new DataView(buf, p + 10, v.getUint16(p + 2) - 8));
        }
      }
    } catch (e) { /* a broken EXIF block only means: no position */ }
    return null;
  }
  function tiffGps(v) {
    var le = v.getUint16(0) === 0x4949;
    function u16(o) { return v.getUint16(o, le); }
    function u32(o) { return v.getUint32(o, le); }
    function entry(ifd, tag, types, count) {  // the 12-byte entry of `tag`, if as expected
      for (var i = 0, n = u16(ifd); i < n; i++) {
        var e = ifd + 2 + i * 12;
        if (u16(e) === tag) return types.indexOf(u16(e + 2)) >= 0 && u32(e + 4) === count ? e : -1;
      }
      return -1;
    }
    var pointer = entry(u32(4), 0x8825, [4, 13], 1);  // the GPS block: LONG or IFD, 1
    if (pointer < 0) return null;
    var gps = u32(pointer + 8);
    function coord(refTag, tag) {
      var at = entry(gps, tag, [5], 3), ref = entry(gps, refTag, [2], 2), value = 0;  // RATIONAL ×3, ASCII "N\0"
      if (at < 0) return null;
      for (var k = 0, off = u32(at + 8); k < 3; k++) {
        var den = u32(off + k * 8 + 4);
        if (!den) return null;
        value += u32(off + k * 8) / den / Math.pow(60, k);
      }
      var r = ref < 0 ? "" : String.fromCharCode(v.getUint8(ref + 8)).toUpperCase();
      return r === "S" || r === "W" ? -value : value;
    }
    var lat = coord(1, 2), lon = coord(3, 4);
    if (lat === null || lon === null || Math.abs(lat) > 90 || Math.abs(lon) > 180 || (!lat && !lon)) return null;
    return [lon, lat];
  }
  // One photo at a time: nine 12 MP photos decoded at once hold about 430 MB, more than a
  // cheap phone's browser may have; one at a time, about 60 MB.
  function prepareInTurn(files) {
    var done = [];
    return files.reduce(function (chain, file) {
      return chain.then(function () { return prepare(file).then(function (p) { done.push(p); }); });
    }, Promise.resolve()).then(function () { return done; });
  }
  $("ph").addEventListener("change", function () {
    var files = Array.prototype.slice.call(this.files);
    if (files.length > 9) { show(me.tToomany); this.value = ""; files = []; }
    else show("");
    var choice = photos = { files: files, ready: prepareInTurn(files) };
    choice.ready.then(function (list) {
      if (photos !== choice) return;  // chosen again since
      draft.photos = list.map(function (p) { return p.draft; }).filter(Boolean); save(); thumbs(draft.photos);
    });
  });

  $("loc").addEventListener("click", function () {
    if (!navigator.geolocation) { $("locs").textContent = me.tNolocation; return; }
    navigator.geolocation.getCurrentPosition(function (p) {
      $("lon").value = p.coords.longitude.toFixed(6); $("lat").value = p.coords.latitude.toFixed(6);
      $("locs").textContent = me.tLocated; save();
      fetch(me.where + "?lon=" + $("lon").value + "&lat=" + $("lat").value).then(function (r) { return r.json(); })
        .then(function (d) { $("locs").textContent = d.grid ? me.tGoes.replace("%s", d.grid.name) : me.tOutside; })
        .catch(function () {});
    }, function () { $("locs").textContent = me.tNolocation; }, { timeout: 10000, maximumAge: 60000 });
  });
  var map = $("map");
  if (map) map.addEventListener("click", function (e) {
    var p = e.target.closest("path"); if (!p) return;
    map.querySelectorAll("path").forEach(function (x) { x.classList.remove("on"); });
    p.classList.add("on"); $("grid").value = p.dataset.code; $("gname").textContent = p.dataset.name; save();
  });

  function dataBlob(url) {
    var parts = url.split(","), bin = atob(parts[1]), a = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) a[i] = bin.charCodeAt(i);
    return new Blob([a], { type: "image/jpeg" });
  }
  function body(prepared) {
    var fd = new FormData(form), files = $("ph").files;
    var same = prepared.length === files.length && prepared.every(function (p, i) { return p.file === files[i]; });
    if (files.length && same) {
      fd.delete("photos");
      prepared.forEach(function (p, i) { fd.append("photos", p.upload, p.upload.name || "photo" + i + ".jpg"); });
      var gps = prepared.map(function (p) { return p.gps; }).filter(Boolean)[0];
      if (gps && fd.get("photo_gps") && !(fd.get("lon") && fd.get("lat"))) {
        fd.set("lon", gps[0].toFixed(7)); fd.set("lat", gps[1].toFixed(7));
      }
    } else if (!files.length && draft.photos && draft.photos.length) {
      fd.delete("photos");
      draft.photos.forEach(function (u, i) { fd.append("photos", dataBlob(u), "photo" + i + ".jpg"); });
    }
    return fd;
  }
  function busy(on) { $("send").disabled = on; $("send").textContent = on ? me.tSending : me.tSend; }
  function send() {
    busy(true); show(""); save();
    photos.ready.then(function (prepared) {
      return fetch(form.action, { method: "POST", body: body(prepared), headers: { Accept: "application/json" }, credentials: "same-origin" });
    })
      .then(function (r) { return r.json().then(function (d) { return [r, d]; }); })
      .then(function (rd) {
        busy(false);
        if (rd[1].ok) { pending = false; clear(); location.href = rd[1].url; return; }
        show(rd[1].error || "?");
      })
      .catch(function () {
        busy(false); pending = true; $("offline").hidden = false;
      });
  }
  window.addEventListener("online", function () { if (pending) { $("offline").hidden = true; send(); } });

  // The cookie first: logging in with phone and code from this form renews the token,
  // and the copy in the page is then stale.
  function csrf() {
    var m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : form.querySelector("[name=csrfmiddlewaretoken]").value;
  }
  function support(url) {
    var fd = new FormData(); fd.append("csrfmiddlewaretoken", csrf());
    // Phone and code typed in this form log the resident in here too.
    ["rphone", "rcode"].forEach(function (id) { var f = $(id); if (f && f.value) fd.append(f.name, f.value); });
    fetch(url, { method: "POST", body: fd, headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); }).then(function (d) {
        if (d.ok) { clear(); location.href = d.url; } else if (d.login) { save(); location.href = me.login; } else show(d.error);
      }).catch(function () { show(me.tOffline); });
  }
  function nearby() {
    var q = "?category=" + encodeURIComponent(sel.value) + "&lon=" + $("lon").value + "&lat=" + $("lat").value + "&grid=" + $("grid").value;
    return fetch(me.nearby + q).then(function (r) { return r.json(); }).then(function (d) { return d.cases; })
      .catch(function () { return []; });
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if ($("send").disabled) return;
    if (checked || !sel.value) { send(); return; }
    nearby().then(function (list) {
      checked = true;
      if (!list.length) { send(); return; }
      var ul = $("dupl"); ul.textContent = "";
      list.forEach(function (c) {
        var li = document.createElement("li"), t = document.createElement("div");
        t.textContent = c.category + " · " + c.state + " · " + c.date + (c.distance !== null ? " · " + c.distance + "m" : "");
        var d = document.createElement("div"); d.className = "desc muted"; d.textContent = me.tSupporters.replace("%s", c.support + 1);
        var b = document.createElement("button"); b.type = "button"; b.className = "btn support"; b.textContent = me.tSupport;
        b.onclick = function () { support(c.url); };
        li.appendChild(t); li.appendChild(d); li.appendChild(b); ul.appendChild(li);
      });
      $("dups").hidden = false; $("dups").scrollIntoView();
    });
  });
  $("anyway").addEventListener("click", function () { $("dups").hidden = true; send(); });
  var otpBtn = $("otp");
  if (otpBtn) otpBtn.addEventListener("click", function () {
    var fd = new FormData(); fd.append("csrfmiddlewaretoken", csrf());
    fd.append("phone", $("rphone").value); fd.append("action", "send");
    fetch(me.otp, { method: "POST", body: fd, headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); }).then(function (d) {
        $("otps").textContent = d.ok ? d.message : d.error; if (d.ok) $("rcode").focus();
      }).catch(function () { $("otps").textContent = me.tOffline; });
  });

  // Start: a key for this report (kept with the draft), the picker, a restored draft.
  if (!draft.key) draft.key = $("key").value || String(Date.now()) + Math.random().toString(36).slice(2);
  $("key").value = draft.key;
  fill("");
  if (draft.description && !$("desc").value) $("desc").value = draft.description;
  if (draft.category) sel.value = draft.category;
  if (draft.lon && !$("lon").value) { $("lon").value = draft.lon; $("lat").value = draft.lat; }
  if (draft.photos && draft.photos.length) thumbs(draft.photos);
  if (draft.phone && $("rphone") && !$("rphone").value) $("rphone").value = draft.phone;
  save();
  document.documentElement.setAttribute("data-ready", "1");
})();
