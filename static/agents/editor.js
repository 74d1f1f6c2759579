/* The editor (templates/portal/editor.html). The page works without this file: every button
   posts the form. With it: steps move, are added and removed at once (buttons, or Alt+Up /
   Alt+Down inside a step); the tool list can be searched and shows the chosen tools as chips, in
   the order they were chosen; the preview switches between the prompt and the file; buttons that
   act on the saved agent are disabled while the form holds unsaved changes; leaving the page
   with unsaved changes asks first. The live preview itself is htmx (attributes on the form). */
(function () {
    "use strict";

    var form = document.getElementById("editor-form");
    if (!form) {
        return;
    }
    document.documentElement.classList.add("js");

    function changed() {
        // htmx listens for this on the form (hx-trigger) and updates the preview.
        form.dispatchEvent(new Event("editor-changed", { bubbles: true }));
        refreshUnsaved();
    }

    function announce(text) {
        var status = document.getElementById("steps-status");
        if (status) {
            status.textContent = "";
            window.setTimeout(function () { status.textContent = text; }, 50);
        }
    }

    /* --- tools ----------------------------------------------------------------------------- */

    // The tool names a comma-separated line lists; commas inside parentheses belong to the tool
    // (Agent(worker, reviewer)), as agentfile.split_tools reads them.
    function splitTools(text) {
        var names = [], depth = 0, current = "";
        for (var i = 0; i < text.length; i++) {
            var c = text[i];
            if (c === "(") { depth++; }
            else if (c === ")" && depth) { depth--; }
            if (c === "," && depth === 0) { names.push(current.trim()); current = ""; }
            else { current += c; }
        }
        names.push(current.trim());
        return names.filter(function (name) { return name; });
    }

    function unique(names) {
        return names.filter(function (name, i) { return names.indexOf(name) === i; });
    }

    var picker = document.getElementById("tool-picker");
    var orderInput = form.querySelector("input[name=tool_order]");
    var typedInput = document.getElementById("id_more_tools");
    var chips = document.getElementById("chosen-tools");
    var order = orderInput ? splitTools(orderInput.value) : [];

    function boxes() {
        return Array.prototype.slice.call(form.querySelectorAll("input[name=tools]"));
    }

    function chosenNow() {
        var ticked = boxes().filter(function (box) { return box.checked; })
            .map(function (box) { return box.value; });
        return unique(ticked.concat(splitTools(typedInput ? typedInput.value : "")));
    }

    function syncTools() {
        if (!orderInput) {
            return;
        }
        var now = chosenNow();
        order = order.filter(function (name) { return now.indexOf(name) >= 0; })
            .concat(now.filter(function (name) { return order.indexOf(name) < 0; }));
        order = unique(order);
        orderInput.value = order.join(", ");
        drawChips();
    }

    function drawChips() {
        if (!chips) {
            return;
        }
        chips.textContent = "";
        order.forEach(function (name) {
            var item = document.createElement("li");
            var label = document.createElement("span");
            label.textContent = name;
            var remove = document.createElement("button");
            remove.type = "button";
            remove.textContent = "\u00d7";
            remove.setAttribute("aria-label", "Remove " + name);
            remove.dataset.tool = name;
            item.appendChild(label);
            item.appendChild(remove);
            chips.appendChild(item);
        });
        var none = document.getElementById("chosen-none");
        if (none) {
            none.hidden = order.length > 0;
        }
    }

    function removeTool(name) {
        boxes().forEach(function (box) {
            if (box.value === name) { box.checked = false; }
        });
        if (typedInput) {
            typedInput.value = splitTools(typedInput.value)
                .filter(function (typed) { return typed !== name; }).join(", ");
        }
        syncTools();
        changed();
    }

    if (picker) {
        picker.addEventListener("change", function (event) {
            if (event.target.name === "tools") { syncTools(); }
        });
        if (typedInput) {
            typedInput.addEventListener("input", syncTools);
        }
        if (chips) {
            chips.addEventListener("click", function (event) {
                var button = event.target.closest("button[data-tool]");
                if (!button) {
                    return;
                }
                var next = button.parentElement.nextElementSibling ||
                    button.parentElement.previousElementSibling;
                var name = button.dataset.tool;
                removeTool(name);
                // Keep the keyboard where it was: on the next chip, or the search box.
                var target = next && chips.querySelector(
                    "button[data-tool=\"" + CSS.escape(next.firstChild.textContent) + "\"]");
                (target || document.getElementById("tool-search")).focus();
                announce("Removed " + name + " from the tools.");
            });
        }
        var search = document.getElementById("tool-search");
        if (search) {
            search.addEventListener("input", function (event) {
                event.stopPropagation();  // filtering the list is not an edit of the agent
                var words = search.value.toLowerCase().trim().split(/\s+/);
                var shown = 0;
                picker.querySelectorAll("[data-tool-group]").forEach(function (group) {
                    var inGroup = 0;
                    group.querySelectorAll("[data-tool-option]").forEach(function (option) {
                        var text = option.textContent.toLowerCase();
                        var hit = words.every(function (word) { return text.indexOf(word) >= 0; });
                        option.hidden = !hit;
                        inGroup += hit ? 1 : 0;
                    });
                    group.hidden = inGroup === 0;
                    shown += inGroup;
                });
                document.getElementById("no-tool-found").hidden = shown > 0;
            });
            search.addEventListener("change", function (event) { event.stopPropagation(); });
        }
        syncTools();
    }

    /* --- steps ----------------------------------------------------------------------------- */

    var list = document.getElementById("step-list");
    var newSteps = 0;

    function renumber() {
        if (!list) {
            return;
        }
        list.querySelectorAll("[data-step]").forEach(function (step, index) {
            var n = String(index + 1);
            step.querySelectorAll("[data-step-number], [data-step-n]").forEach(function (el) {
                el.textContent = n;
            });
            step.querySelectorAll("[data-step-op]").forEach(function (button) {
                var op = button.dataset.stepOp;
                button.value = op + "-" + n;
                var words = { up: "Move step " + n + " up", down: "Move step " + n + " down",
                    remove: "Remove step " + n };
                button.setAttribute("aria-label", words[op]);
            });
        });
    }

    function flash(step) {
        step.classList.remove("step-moved");
        void step.offsetWidth;  // restart the animation
        step.classList.add("step-moved");
    }

    function position(step) {
        return Array.prototype.indexOf.call(list.children, step) + 1;
    }

    function move(step, direction) {
        if (direction === "up") {
            var before = step.previousElementSibling;
            if (!before) {
                announce("Step " + position(step) + " is already the first.");
                return;
            }
            // Move the other step, so that the one with the focus stays in the page.
            list.insertBefore(before, step.nextElementSibling);
        } else {
            var after = step.nextElementSibling;
            if (!after) {
                announce("Step " + position(step) + " is already the last.");
                return;
            }
            list.insertBefore(after, step);
        }
        renumber();
        flash(step);
        announce("Moved to step " + position(step) + " of " + list.children.length + ".");
        changed();
    }

    function removeStep(step) {
        var n = position(step);
        var next = step.nextElementSibling || step.previousElementSibling;
        step.remove();
        renumber();
        announce("Removed step " + n + ".");
        var focus = next ? next.querySelector("input[name=step_title]") :
            document.getElementById("add-step");
        if (focus) {
            focus.focus();
        }
        changed();
    }

    function addStep() {
        var template = document.getElementById("step-template");
        var step = template.content.firstElementChild.cloneNode(true);
        newSteps += 1;
        step.querySelectorAll("[id]").forEach(function (el) {
            el.id = el.id.replace(/^step-0-/, "step-new" + newSteps + "-");
        });
        step.querySelectorAll("label[for]").forEach(function (label) {
            label.htmlFor = label.htmlFor.replace(/^step-0-/, "step-new" + newSteps + "-");
        });
        list.appendChild(step);
        renumber();
        step.querySelector("input[name=step_title]").focus();
        announce("Added step " + list.children.length + ".");
        changed();
    }

    if (list) {
        list.addEventListener("click", function (event) {
            var button = event.target.closest("[data-step-op]");
            if (!button) {
                return;
            }
            event.preventDefault();
            var step = button.closest("[data-step]");
            if (button.dataset.stepOp === "remove") {
                removeStep(step);
            } else {
                move(step, button.dataset.stepOp);
                button.focus();
            }
        });
        list.addEventListener("keydown", function (event) {
            if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) {
                return;
            }
            var step = event.target.closest("[data-step]");
            if (!step) {
                return;
            }
            event.preventDefault();
            var focused = document.activeElement;
            move(step, event.key === "ArrowUp" ? "up" : "down");
            if (focused && document.activeElement !== focused) {
                focused.focus();
            }
        });
        var add = document.getElementById("add-step");
        if (add) {
            add.addEventListener("click", function (event) {
                event.preventDefault();
                addStep();
            });
        }
    }

    /* --- unsaved changes --------------------------------------------------------------------- */

    function snapshot() {
        return new URLSearchParams(new FormData(form)).toString();
    }

    var saved = snapshot();
    var submitting = false;

    function isUnsaved() {
        return form.dataset.unsaved === "true" || snapshot() !== saved;
    }

    function refreshUnsaved() {
        var unsaved = isUnsaved();
        form.querySelectorAll("[data-acts-on-saved]").forEach(function (button) {
            button.disabled = unsaved;
        });
        var note = document.getElementById("unsaved-note");
        if (note) {
            note.hidden = !unsaved;
        }
    }

    form.addEventListener("input", refreshUnsaved);
    form.addEventListener("change", refreshUnsaved);
    form.addEventListener("submit", function () { submitting = true; });
    form.addEventListener("keydown", function (event) {
        // Enter in a one-line field would press the form's first button.
        if (event.key === "Enter" && event.target.matches("input[type=text], input[type=search], input[type=number], input:not([type])")) {
            event.preventDefault();
        }
    });
    window.addEventListener("beforeunload", function (event) {
        if (!submitting && isUnsaved()) {
            event.preventDefault();
            event.returnValue = "";
        }
    });
    window.addEventListener("pageshow", function () { submitting = false; });
    refreshUnsaved();

    /* --- the preview ----------------------------------------------------------------------- */

    var preview = document.getElementById("preview");
    if (preview) {
        var buttons = preview.querySelectorAll("[data-preview-view]");
        var show = function (view) {
            preview.dataset.view = view;
            buttons.forEach(function (button) {
                button.setAttribute("aria-pressed", String(button.dataset.previewView === view));
            });
        };
        buttons.forEach(function (button) {
            button.addEventListener("click", function () { show(button.dataset.previewView); });
        });
        show("rendered");
    }
}());
