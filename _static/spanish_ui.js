// Último recurso: textos que sphinx-togglebutton escribe en inglés desde su propio JavaScript.
// Las demás traducciones de la interfaz están en _ext/spanish_ui.py y _templates/.
window.addEventListener("load", function () {
  document.querySelectorAll('[aria-label="Toggle hidden content"]').forEach(function (el) {
    el.setAttribute("aria-label", "Mostrar u ocultar el contenido");
  });
});

// Accesibilidad de la bibliografía: docutils marca cada referencia con el rol ARIA
// «doc-biblioentry» (obsoleto en DPUB-ARIA 1.1) dentro de una lista (role="list"), que
// entonces no tiene los hijos que exige (axe: aria-required-children, aria-deprecated-role).
// Cada referencia pasa a ser un elemento de la lista.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll('[role="list"] > [role="doc-biblioentry"]').forEach(function (el) {
    el.setAttribute("role", "listitem");
  });
});
