// Preparación del gestor de widgets (@jupyter-widgets/html-manager 1.0) servido por el sitio.
// Se carga entre require.js y embed-amd.js (nb_ipywidgets_js en _config.yml):
//  1. embed-amd.js calcula de dónde cargar sus fuentes (iconos) a partir del nombre de su
//     módulo AMD; sin esta ruta las busca junto a la página y dan 404.
//  2. El gestor compone las fórmulas de las etiquetas con la API de MathJax 2
//     (MathJax.Hub.Queue); el libro usa MathJax 3, así que la traducimos a typesetPromise.
(function () {
  "use strict";
  var src = document.currentScript && document.currentScript.src;
  if (src && window.requirejs) {
    var base = src.slice(0, src.lastIndexOf("/") + 1);
    window.requirejs.config({
      paths: { "@jupyter-widgets/html-manager/dist": base + "html-manager" },
    });
  }
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
