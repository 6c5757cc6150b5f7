// ReDoc over the api's own document; a file of its own because the page allows no inline script.
// Its search runs in a worker made from a blob: URL, which the service's script-src 'self' forbids.
window.Redoc.init("/openapi.json", { disableSearch: true }, document.getElementById("redoc"));
