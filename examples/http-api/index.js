// An AWS Lambda handler for an API Gateway REST proxy integration, exactly as it would be
// deployed to AWS: natsfn-http turns HTTP requests into the same events.
//
//   GET  /hello?name=x          → JSON greeting built from query parameters
//   POST /items                 → echoes the parsed JSON body with 201
//   GET  /users/{id}            → reads a path parameter
//   POST /binary                → returns the request body unchanged (base64 both ways)
//   GET  /teapot                → a custom status with multi-value headers
exports.handler = async (event) => {
  // HEAD is answered like GET; the bridge sends the headers without the body.
  const method = event.httpMethod === 'HEAD' ? 'GET' : event.httpMethod;
  const route = `${method} ${event.resource}`;
  switch (route) {
    case 'GET /hello': {
      const q = event.queryStringParameters || {};
      const mq = event.multiValueQueryStringParameters || {};
      return {
        statusCode: 200,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          message: `hello ${q.name || 'world'}`,
          tags: mq.tag || [],
          requestId: event.requestContext.requestId,
          sourceIp: event.requestContext.identity.sourceIp,
        }),
      };
    }
    case 'POST /items': {
      const item = JSON.parse(event.body);
      return {
        statusCode: 201,
        headers: { 'Content-Type': 'application/json', Location: `/items/${item.id}` },
        body: JSON.stringify({ created: item, contentType: event.headers['Content-Type'] }),
      };
    }
    case 'GET /users/{id}':
      return { statusCode: 200, body: JSON.stringify({ id: event.pathParameters.id }) };
    case 'POST /binary': {
      const bytes = event.isBase64Encoded
        ? Buffer.from(event.body, 'base64')
        : Buffer.from(event.body || '', 'utf8');
      return {
        statusCode: 200,
        headers: { 'Content-Type': 'application/octet-stream' },
        body: bytes.toString('base64'),
        isBase64Encoded: true,
      };
    }
    case 'GET /teapot':
      return {
        statusCode: 418,
        headers: { 'Content-Type': 'text/plain' },
        multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'], 'X-Multi': ['one', 'two'] },
        body: "I'm a teapot",
      };
    default:
      return { statusCode: 404, body: JSON.stringify({ message: `no route ${route}` }) };
  }
};
