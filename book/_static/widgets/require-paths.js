// The widget bundle (embed-amd.js) loads its icon fonts from the folder of its AMD module ids
// ("@jupyter-widgets/..."), which require.js would resolve against the page's own folder. Point those ids at
// this folder, so the fonts come from _static/widgets/ too (the book works offline).
(function () {
  var here = document.currentScript.src.replace(/[^/]*$/, "");
  require.config({paths: {"@jupyter-widgets/html-manager/dist": here, "@jupyter-widgets": here}});
})();
