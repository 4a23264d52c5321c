// Starts GraphiQL on the page's own path, the router's GraphQL path: its
// fetcher POSTs `Content-Type: application/json`, which CSRF prevention
// lets through. `?query=`, `?variables=` and `?operationName=` in the
// page's URL fill the editors.
(function () {
  'use strict';
  var params = new URLSearchParams(window.location.search);
  var props = {
    fetcher: GraphiQL.createFetcher({ url: window.location.pathname }),
  };
  ['query', 'variables', 'operationName'].forEach(function (name) {
    if (params.has(name)) {
      props[name] = params.get(name);
    }
  });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, props));
})();
