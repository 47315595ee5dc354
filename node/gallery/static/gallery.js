// Live arrival for the Mesh Art Node gallery. Without this file every page still works and
// shows the state at load time; with it, progress bars, partial images and new works update
// from the /events Server-Sent Events stream.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var grid = document.querySelector("[data-grid]");
  var article = document.querySelector("article[data-work]");
  if (!main || !window.EventSource || (!grid && !article)) { return; }

  var receivedText = main.getAttribute("data-received") || "{percent}%";
  var prefixShown = article ? parseInt(article.getAttribute("data-prefix-shown") || "0", 10) : 0;
  var prefixLoading = false;

  function cardsFor(id) {
    return document.querySelectorAll('li.card[data-work="' + id + '"]');
  }

  function setProgress(root, have, total) {
    var bar = root.querySelector("[data-progress]");
    var label = root.querySelector("[data-percent]");
    var percent = total ? Math.min(99, Math.floor(100 * have / total)) : 0;
    if (bar) { bar.max = total; bar.value = have; bar.textContent = percent + "%"; }
    if (label) { label.textContent = receivedText.replace("{percent}", String(percent)); }
  }

  function fetchCard(id) {
    return fetch("/cards/" + id, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error("card " + response.status); }
      return response.text();
    }).then(function (html) {
      var holder = document.createElement("template");
      holder.innerHTML = html.trim();
      return holder.content.firstElementChild;
    });
  }

  function replaceCard(id) {
    fetchCard(id).then(function (fresh) {
      cardsFor(id).forEach(function (old) { old.replaceWith(fresh.cloneNode(true)); });
    }).catch(function () {});
  }

  function addCard(id) {
    if (!grid || grid.getAttribute("data-first-page") !== "yes" || cardsFor(id).length) { return; }
    fetchCard(id).then(function (fresh) {
      if (cardsFor(id).length) { return; }
      grid.insertBefore(fresh, grid.firstElementChild);
      var empty = document.querySelector("[data-grid-empty]");
      if (empty) { empty.remove(); }
    }).catch(function () {});
  }

  function showPrefix(id, prefix) {
    if (prefixLoading || prefix <= prefixShown) { return; }
    var img = article.querySelector("img[data-live-image]");
    if (!img) { return; }
    prefixLoading = true;
    var next = new Image();
    next.onload = function () {
      prefixLoading = false;
      if (article.getAttribute("data-complete") === "yes") { return; }
      prefixShown = prefix;
      img.classList.remove("preview");
      img.src = next.src;
    };
    next.onerror = function () { prefixLoading = false; };
    next.src = "/media/" + id + "/prefix?n=" + prefix;
  }

  function completeArticle(id) {
    var kind = article.getAttribute("data-kind");
    if (kind !== "image" && kind !== "svg") { window.location.reload(); return; }
    var img = article.querySelector("img[data-live-image]");
    var full = new Image();
    full.onload = function () {
      article.setAttribute("data-complete", "yes");
      if (img) { img.classList.remove("preview"); img.src = full.src; }
      article.querySelectorAll(".arriving, .hint").forEach(function (node) { node.remove(); });
    };
    full.src = "/media/" + id;
  }

  var onArticle = function (id) { return article && article.getAttribute("data-work") === id; };
  var source = new EventSource("/events");
  source.addEventListener("open", function () {
    var note = document.querySelector("[data-live-note]");
    if (note) { note.hidden = false; }
    document.documentElement.setAttribute("data-live", "on");
  });
  source.addEventListener("chunk", function (event) {
    var m = JSON.parse(event.data);
    cardsFor(m.id).forEach(function (card) { setProgress(card, m.have, m.total); });
    if (onArticle(m.id)) {
      setProgress(article, m.have, m.total);
      if (article.getAttribute("data-prefix") === "yes") { showPrefix(m.id, m.prefix); }
    }
  });
  source.addEventListener("complete", function (event) {
    var m = JSON.parse(event.data);
    if (cardsFor(m.id).length) { replaceCard(m.id); }
    if (onArticle(m.id)) { completeArticle(m.id); }
  });
  source.addEventListener("work", function (event) { addCard(JSON.parse(event.data).id); });
  source.addEventListener("takedown", function (event) {
    var m = JSON.parse(event.data);
    cardsFor(m.id).forEach(function (card) { card.remove(); });
    if (onArticle(m.id)) { window.location.reload(); }
  });
}());
