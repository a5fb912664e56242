#pragma once
// The API Gateway REST proxy contract (payload format 1.0), both ways: an HTTP request becomes
// the event an unmodified Lambda handler expects, and the function's reply becomes an HTTP
// response. Pure functions of their inputs, so they are tested without sockets or NATS.

#include <cstdint>
#include <string>
#include <string_view>

#include "bridge-http/src/http_message.hpp"
#include "bridge-http/src/route_table.hpp"

namespace natsfn {

// {resource, path, httpMethod, headers, multiValueHeaders, queryStringParameters,
//  multiValueQueryStringParameters, pathParameters, stageVariables, requestContext, body,
//  isBase64Encoded}. A body that is not valid UTF-8 travels base64-encoded.
std::string build_event(const HttpRequest& req, const RouteMatch& route,
                        const std::string& request_id, int64_t epoch_ms);

// A successful reply. An object with statusCode is a proxy result (status, headers,
// multiValueHeaders, body, isBase64Encoded); anything else is a 200 whose body is the payload as
// it came, with a Content-Type guessed from it.
HttpResponse result_to_response(std::string_view payload);

// A reply carrying Nats-Service-Error-Code: the function failed (502, with Lambda's error JSON as
// the body), timed out (504), was over capacity (429) or is unknown (404).
HttpResponse function_error_response(int service_code, std::string_view payload);

}  // namespace natsfn
