// Último recurso: textos que sphinx-togglebutton escribe en inglés desde su propio JavaScript.
// Las demás traducciones de la interfaz están en _ext/spanish_ui.py y _templates/.
window.addEventListener("load", function () {
  document.querySelectorAll('[aria-label="Toggle hidden content"]').forEach(function (el) {
    el.setAttribute("aria-label", "Mostrar u ocultar el contenido");
  });
});
