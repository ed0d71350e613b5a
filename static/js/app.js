// Small progressive enhancements; every page works without this file.
document.addEventListener("htmx:responseError", (event) => {
  const target = event.detail.target;
  if (target) {
    target.insertAdjacentHTML("afterbegin", '<p class="form-error" role="alert">The server could not answer. Try again.</p>');
  }
});

// ---- Team tree: expand/collapse with lazy children, keyboard as in the WAI-ARIA tree pattern.
// Without JavaScript the toggle is a link to the team's subtree page.
(() => {
  const visibleItems = (tree) =>
    Array.from(tree.querySelectorAll('[role="treeitem"]')).filter((el) => !el.closest('[role="group"][hidden]'));

  const setCurrent = (tree, item) => {
    tree.querySelectorAll('[role="treeitem"][tabindex="0"]').forEach((el) => el.setAttribute("tabindex", "-1"));
    item.setAttribute("tabindex", "0");
    item.focus();
  };

  const expand = (item) => {
    const group = item.querySelector(':scope > [role="group"]');
    if (!group || item.getAttribute("aria-expanded") === "true") return;
    item.setAttribute("aria-expanded", "true");
    group.hidden = false;
    const url = item.dataset.childrenUrl;
    if (url && !group.dataset.loaded && window.htmx) {
      group.dataset.loaded = "loading";
      item.classList.add("is-loading");
      window.htmx.ajax("GET", url, { target: group, swap: "innerHTML" }).then(() => {
        group.dataset.loaded = "true";
        item.classList.remove("is-loading");
        initTrees(group);
      });
    }
  };

  const collapse = (item) => {
    const group = item.querySelector(':scope > [role="group"]');
    if (!group) return;
    item.setAttribute("aria-expanded", "false");
    group.hidden = true;
  };

  const toggle = (item) => (item.getAttribute("aria-expanded") === "true" ? collapse(item) : expand(item));

  function initTrees(root) {
    root.querySelectorAll('[role="tree"]').forEach((tree) => {
      const items = tree.querySelectorAll('[role="treeitem"]');
      items.forEach((item) => {
        if (!item.hasAttribute("tabindex")) item.setAttribute("tabindex", "-1");
        // Links inside rows stay clickable but leave the Tab order to the tree (roving focus).
        item.querySelectorAll(":scope > .tree-row a").forEach((a) => a.setAttribute("tabindex", "-1"));
      });
      if (!tree.querySelector('[role="treeitem"][tabindex="0"]') && items.length) items[0].setAttribute("tabindex", "0");
    });
    root.querySelectorAll('[role="treeitem"]').forEach((item) => {
      if (!item.hasAttribute("tabindex")) item.setAttribute("tabindex", "-1");
      item.querySelectorAll(":scope > .tree-row a").forEach((a) => a.setAttribute("tabindex", "-1"));
    });
  }

  document.addEventListener("click", (event) => {
    const toggleLink = event.target.closest(".tree .toggle");
    if (!toggleLink) return;
    const item = toggleLink.closest('[role="treeitem"]');
    if (!item || !item.dataset.childrenUrl) return; // no lazy URL (focus page): follow the link
    event.preventDefault();
    toggle(item);
    setCurrent(item.closest('[role="tree"]'), item);
  });

  document.addEventListener("keydown", (event) => {
    const item = event.target.closest && event.target.closest('[role="treeitem"]');
    if (!item || event.target !== item) return;
    const tree = item.closest('[role="tree"]');
    const items = visibleItems(tree);
    const index = items.indexOf(item);
    const expandable = item.hasAttribute("aria-expanded");
    switch (event.key) {
      case "ArrowDown":
        if (index < items.length - 1) setCurrent(tree, items[index + 1]);
        break;
      case "ArrowUp":
        if (index > 0) setCurrent(tree, items[index - 1]);
        break;
      case "ArrowRight":
        if (expandable && item.getAttribute("aria-expanded") !== "true") expand(item);
        else if (expandable && index < items.length - 1) setCurrent(tree, items[index + 1]);
        break;
      case "ArrowLeft": {
        if (expandable && item.getAttribute("aria-expanded") === "true") collapse(item);
        else {
          const parent = item.parentElement.closest('[role="treeitem"]');
          if (parent) setCurrent(tree, parent);
        }
        break;
      }
      case "Enter":
      case " ":
        if (expandable) toggle(item);
        else {
          const link = item.querySelector(".team-link");
          if (link && event.key === "Enter") link.click();
        }
        break;
      case "Home":
        setCurrent(tree, items[0]);
        break;
      case "End":
        setCurrent(tree, items[items.length - 1]);
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", () => initTrees(document));
  document.addEventListener("htmx:afterSettle", (event) => initTrees(event.detail.elt || document));
})();

// GET filter forms: leave empty fields out of the request, so the URL (pushed to the history
// and bookmarked) holds only the active filters. Without JS the server ignores empty fields.
document.addEventListener("htmx:configRequest", (event) => {
  if (event.detail.verb !== "get") return;
  const params = event.detail.parameters;
  if (!params || typeof params.getAll !== "function") return;
  const keys = new Set(Array.from(params.keys()));
  keys.forEach((key) => {
    const values = params.getAll(key).filter((v) => v !== "");
    params.delete(key);
    values.forEach((v) => params.append(key, v));
  });
});
