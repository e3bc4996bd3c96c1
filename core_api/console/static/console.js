// The console's few partial updates, without a framework: buttons with data-post (claim,
// send a code) and data-get (older events) fetch a fragment and swap it in. Posts carry the
// session's CSRF token in a header; the server refuses them without it.
(function () {
  "use strict";
  function token() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  function target(el) {
    var sel = el.getAttribute("data-target");
    if (!sel) return el;
    if (sel.indexOf("closest ") === 0) return el.closest(sel.slice(8));
    return document.querySelector(sel);
  }
  function swap(el, html) {
    var into = target(el);
    if (!into) return;
    if (el.getAttribute("data-swap") === "inner") {
      into.innerHTML = html;
    } else {
      var box = document.createElement("template");
      box.innerHTML = html.trim();
      into.replaceWith.apply(into, Array.prototype.slice.call(box.content.childNodes));
    }
  }
  function notice(html) {
    var box = document.getElementById("notice");
    if (!box) {
      box = document.createElement("div");
      box.id = "notice";
      document.querySelector("main").prepend(box);
    }
    box.innerHTML = html;
  }
  function send(el, method, url) {
    el.disabled = true;
    var headers = { "HX-Request": "true" };
    if (method === "POST") headers["X-CSRF-Token"] = token();
    fetch(url, { method: method, headers: headers, credentials: "same-origin" })
      .then(function (r) {
        return r.text().then(function (html) {
          if (r.ok) return swap(el, html);
          el.disabled = false;  // a refusal is said above the page, the element stays
          notice(html);
        });
      })
      .catch(function () { el.disabled = false; notice("<p class=\"refusal\">The console could not be reached.</p>"); });
  }
  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-post], [data-get]");
    if (!el) return;
    event.preventDefault();
    if (el.hasAttribute("data-post")) send(el, "POST", el.getAttribute("data-post"));
    else send(el, "GET", el.getAttribute("data-get"));
  });
  // Show only the reasons of the chosen verdict.
  document.addEventListener("change", function (event) {
    var radio = event.target;
    if (radio.name !== "action") return;
    var form = radio.form, select = form.querySelector('select[name="reason"]');
    var first = null;
    select.querySelectorAll("optgroup").forEach(function (group) {
      var on = group.getAttribute("data-action") === radio.value;
      group.hidden = !on;
      group.disabled = !on;
      if (on && !first) first = group.querySelector("option");
    });
    if (first) select.value = first.value;
    form.classList.toggle("bans", radio.hasAttribute("data-bans"));
  });
})();
