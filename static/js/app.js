// Small progressive enhancements; every page works without this file.
document.addEventListener("htmx:responseError", (event) => {
  const target = event.detail.target;
  if (target) {
    target.insertAdjacentHTML("afterbegin", '<p class="form-error" role="alert">The server could not answer. Try again.</p>');
  }
});
