// ReDoc over the api's own document; a file of its own because the page allows no inline script.
window.Redoc.init("/openapi.json", { disableSearch: false }, document.getElementById("redoc"));
