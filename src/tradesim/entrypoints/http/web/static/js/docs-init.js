// Swagger UI over the api's own document; a file of its own because the page allows no inline script.
window.SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [window.SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  showExtensions: true,
  showCommonExtensions: true,
  // The public validator badge would send the document to validator.swagger.io.
  validatorUrl: null,
});
