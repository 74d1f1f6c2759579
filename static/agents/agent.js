// The agent page's copy button: copies the exact file shown beside it. Without JavaScript the
// button stays hidden (the file can still be selected, or downloaded).
(function () {
  "use strict";

  function copySelected(source) {
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.dataset.copy);
    var status = document.getElementById(button.dataset.copyStatus);
    if (!source || !status) {
      return;
    }
    function say(message) {
      status.textContent = message;
    }
    function fallback() {
      say(copySelected(source) ? "Copied" : "Selected: press Ctrl+C (or Cmd+C) to copy");
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      say("");
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.textContent).then(function () {
          say("Copied");
        }, fallback);
      } else {
        fallback();
      }
    });
  });
})();
