// Preparación del gestor de widgets (@jupyter-widgets/html-manager 1.0) servido por el sitio.
// Se carga entre require.js y embed-amd.js (nb_ipywidgets_js en _config.yml):
//  1. embed-amd.js calcula de dónde cargar sus fuentes (iconos) a partir del nombre de su
//     módulo AMD; sin esta ruta las busca junto a la página y dan 404.
//  2. El gestor compone las fórmulas de las etiquetas con la API de MathJax 2
//     (MathJax.Hub.Queue); el libro usa MathJax 3, así que la traducimos a typesetPromise.
//  3. Accesibilidad de lo que dibuja el gestor: el tirador de un deslizador (role="slider")
//     no recibe la etiqueta del widget (su «description»), y las imágenes de un widget Output
//     pierden el texto alternativo que el cuaderno les dio (metadata["image/png"].alt, con
//     display(fig, metadata=...)). Se los ponemos; una figura sin «alt» en el cuaderno sigue
//     sin él, y la auditoría de tools/browser_check.py lo señala.
(function () {
  "use strict";
  var src = document.currentScript && document.currentScript.src;
  if (src && window.requirejs) {
    var base = src.slice(0, src.lastIndexOf("/") + 1);
    window.requirejs.config({
      paths: { "@jupyter-widgets/html-manager/dist": base + "html-manager" },
    });
  }
  function altTexts() {
    var alts = {};
    document
      .querySelectorAll('script[type="application/vnd.jupyter.widget-state+json"]')
      .forEach(function (script) {
        var models = (JSON.parse(script.textContent) || {}).state || {};
        Object.keys(models).forEach(function (id) {
          ((models[id].state || {}).outputs || []).forEach(function (out) {
            var data = out.data || {};
            var meta = out.metadata || {};
            Object.keys(data).forEach(function (mime) {
              var alt = (meta[mime] || {}).alt || meta.alt;
              if (mime.indexOf("image/") === 0 && alt) {
                alts["data:" + mime + ";base64," + String(data[mime])] = alt;
              }
            });
          });
        });
      });
    return alts;
  }
  function labelWidgets(alts) {
    document.querySelectorAll('[role="slider"]:not([aria-label])').forEach(function (handle) {
      var box = handle.closest(".widget-slider");
      var label = box && box.querySelector(".widget-label");
      var text = label && label.textContent.trim();
      if (text) handle.setAttribute("aria-label", text);
    });
    document.querySelectorAll(".jp-RenderedImage img:not([alt])").forEach(function (img) {
      var alt = alts[img.getAttribute("src")];
      if (alt) img.setAttribute("alt", alt);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (!document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]')) return;
    var alts = altTexts();
    new MutationObserver(function () {
      labelWidgets(alts);
    }).observe(document.body, { childList: true, subtree: true });
  });
  document.addEventListener("DOMContentLoaded", function () {
    var mj = window.MathJax;
    if (!mj || mj.Hub) return;
    mj.Hub = {
      Queue: function () {
        for (var i = 0; i < arguments.length; i++) {
          var cmd = arguments[i];
          if (Array.isArray(cmd) && cmd[0] === "Typeset" && mj.typesetPromise) {
            var element = cmd[2];
            mj.startup.promise.then(function () {
              return mj.typesetPromise(element ? [element] : undefined);
            });
          }
        }
      },
    };
  });
})();
