// Copy buttons: <button class="copy" data-copy="ID" hidden> copies the value or text of the
// element with that id. Hidden until this script runs: without JavaScript people select the
// text themselves.
(function () {
  "use strict";
  function copied(button, ok) {
    var label = button.textContent;
    button.textContent = ok ? "Copied" : "Select and copy it yourself";
    window.setTimeout(function () { button.textContent = label; }, 2000);
  }
  document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) { return; }
    button.hidden = false;
    button.setAttribute("aria-live", "polite");
    button.addEventListener("click", function () {
      var text = "value" in target && target.tagName === "INPUT" ? target.value : target.textContent;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(
          function () { copied(button, true); },
          function () { copied(button, false); }
        );
      } else if (target.select) {
        target.select();
        copied(button, document.execCommand && document.execCommand("copy"));
      } else {
        copied(button, false);
      }
    });
  });
})();
