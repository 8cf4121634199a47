// CloudFront Function (cloudfront-js-2.0, viewer request) of the console's behavior. Plain script, no
// imports or exports: CloudFront runs the top-level `handler`; test/infra/console-viewer-request.test.ts
// evaluates this file the same way.
//
// The console routes on the URL hash (#/devices/...), so the only page path is the directory /console/:
// no client route ever reaches CloudFront, and every other path is a file of the build or a 403 from S3.
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  // As the local runtime does: /console without its slash moves to /console/ (the browser keeps the #route).
  if (uri === '/console') return redirect(301, 'Moved Permanently');
  // The distribution's root has nothing of its own: send a visitor to the console, without promising forever.
  if (uri === '/') return redirect(302, 'Found');
  // S3 has no directory index: the key is console/index.html.
  if (uri === '/console/') request.uri = '/console/index.html';
  return request;
}

function redirect(statusCode, statusDescription) {
  return {
    statusCode: statusCode,
    statusDescription: statusDescription,
    headers: { location: { value: '/console/' } },
  };
}
