// Starts Swagger UI on /docs from the app's own copy of its files (no CDN, no validator badge: nothing leaves the
// estate network). A file rather than an inline script, so the page can run under a strict Content-Security-Policy.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
});
