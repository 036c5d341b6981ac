// OAuth 2.0 Form Post Response Mode: submit the response form at once. Served from the
// server's own origin because the pages' Content-Security-Policy forbids inline script; without
// JavaScript the person presses Continue.
document.getElementById("form-post").submit();
