// natsfn-http's pure pieces: route matching, the API Gateway event, result mapping, response
// serialisation. The end-to-end behaviour is in test_http_bridge.cpp.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bridge-http/src/api_gateway_event.hpp"
#include "bridge-http/src/base64.hpp"
#include "bridge-http/src/bridge_options.hpp"
#include "bridge-http/src/json_text.hpp"
#include "bridge-http/src/route_table.hpp"

using namespace natsfn;
using json = nlohmann::json;

TEST_CASE("routes: literal beats parameter beats greedy; methods filter") {
  RouteTable t;
  t.put(Binding::http("/users/{id}", {"GET"}, "get-user"));
  t.put(Binding::http("/users/me", {}, "me"));
  t.put(Binding::http("/files/{proxy+}", {}, "files"));
  t.put(Binding::http("/{proxy+}", {}, "catch-all"));
  t.put(Binding::http("/users", {"POST"}, "create-user"));

  auto a = t.lookup("GET", "/users/42");
  REQUIRE(a.match);
  CHECK(a.match->function == "get-user");
  CHECK(a.match->resource == "/users/{id}");
  REQUIRE(a.match->path_params.size() == 1);
  CHECK(a.match->path_params[0] == std::pair<std::string, std::string>{"id", "42"});

  CHECK(t.lookup("GET", "/users/me").match->function == "me");
  CHECK(t.lookup("GET", "/users/a%20b").match->path_params[0].second == "a b");

  auto f = t.lookup("GET", "/files/a/b/c.txt");
  CHECK(f.match->function == "files");
  CHECK(f.match->path_params[0] == std::pair<std::string, std::string>{"proxy", "a/b/c.txt"});
  // A greedy tail needs at least one segment: /files alone falls through to the catch-all.
  CHECK(t.lookup("GET", "/files").match->function == "catch-all");
  // DELETE /users/42 only matches the catch-all; POST /users matches its own route.
  CHECK(t.lookup("DELETE", "/users/42").match->function == "catch-all");
  CHECK(t.lookup("POST", "/users").match->function == "create-user");
  CHECK(t.lookup("POST", "/users/").match->function == "create-user");

  t.erase(Binding::http("/{proxy+}", {}, "catch-all").key());
  auto m = t.lookup("DELETE", "/users/42");
  CHECK(!m.match);
  CHECK(m.allowed_methods == "GET");
  CHECK(!t.lookup("GET", "/nothing").match);
  CHECK(t.lookup("GET", "/nothing").allowed_methods.empty());
  CHECK(t.lookup("HEAD", "/users/1").match->function == "get-user");
}

TEST_CASE("routes: default routes invoke /<function>") {
  RouteTable t(true);
  t.put(Binding::http("/special", {}, "bound"));
  CHECK(t.lookup("GET", "/special").match->function == "bound");
  auto d = t.lookup("POST", "/echo");
  REQUIRE(d.match);
  CHECK(d.match->function == "echo");
  CHECK(d.match->path_params.empty());
  auto p = t.lookup("GET", "/echo/x/y");
  CHECK(p.match->function == "echo");
  CHECK(p.match->resource == "/echo/{proxy+}");
  CHECK(p.match->path_params[0].second == "x/y");
  CHECK(!t.lookup("GET", "/").match);
  CHECK(!t.lookup("GET", "/not$valid").match);
  CHECK(!RouteTable(false).lookup("GET", "/echo").match);
}

TEST_CASE("event: API Gateway REST proxy shape") {
  HttpRequest req;
  req.method = "GET";
  req.target = "/users/7?name=a%20b&tag=x&tag=y&flag";
  req.path = "/users/7";
  req.query = "name=a%20b&tag=x&tag=y&flag";
  req.headers = {{"Host", "example"}, {"X-Multi", "1"}, {"x-multi", "2"}, {"User-Agent", "t"}};
  req.source_ip = "127.0.0.1";
  RouteMatch route{"users", "/users/{id}", {{"id", "7"}}};
  json e = json::parse(build_event(req, route, "rid", 1234));
  CHECK(e["resource"] == "/users/{id}");
  CHECK(e["path"] == "/users/7");
  CHECK(e["httpMethod"] == "GET");
  CHECK(e["headers"]["Host"] == "example");
  CHECK(e["headers"]["X-Multi"] == "2");
  CHECK(e["multiValueHeaders"]["X-Multi"] == json::array({"1", "2"}));
  CHECK(e["queryStringParameters"]["name"] == "a b");
  CHECK(e["queryStringParameters"]["tag"] == "y");
  CHECK(e["queryStringParameters"]["flag"] == "");
  CHECK(e["multiValueQueryStringParameters"]["tag"] == json::array({"x", "y"}));
  CHECK(e["pathParameters"]["id"] == "7");
  CHECK(e["requestContext"]["requestId"] == "rid");
  CHECK(e["requestContext"]["identity"]["sourceIp"] == "127.0.0.1");
  CHECK(e["requestContext"]["resourcePath"] == "/users/{id}");
  CHECK(e["requestContext"]["httpMethod"] == "GET");
  CHECK(e["requestContext"]["requestTimeEpoch"] == 1234);
  CHECK(e["body"].is_null());
  CHECK(e["isBase64Encoded"] == false);

  req.query.clear();
  req.body = std::string("\x00\xff\xfe text", 8);
  json b = json::parse(build_event(req, route, "rid", 0));
  CHECK(b["queryStringParameters"].is_null());
  CHECK(b["isBase64Encoded"] == true);
  CHECK(*base64_decode(b["body"].get<std::string>()) == req.body);
  req.body = "{\"ok\":\"héllo\"}";
  json t = json::parse(build_event(req, route, "rid", 0));
  CHECK(t["isBase64Encoded"] == false);
  CHECK(t["body"] == req.body);
}

TEST_CASE("results: proxy objects, plain payloads and function errors") {
  auto r = result_to_response(
      R"({"statusCode":201,"headers":{"X-One":"1","X-Num":5},"multiValueHeaders":{"Set-Cookie":["a=1","b=2"]},"body":"made"})");
  CHECK(r.status == 201);
  CHECK(r.body == "made");
  CHECK(r.has_header("X-One"));
  CHECK(r.has_header("Content-Type"));  // API Gateway's default, application/json
  int cookies = 0;
  for (auto& [k, v] : r.headers) cookies += k == "Set-Cookie";
  CHECK(cookies == 2);

  auto bin = result_to_response(R"({"statusCode":"200","body":"AP8B","isBase64Encoded":true})");
  CHECK(bin.status == 200);
  CHECK(bin.body == std::string("\x00\xff\x01", 3));
  CHECK(result_to_response(R"({"statusCode":"abc"})").status == 502);
  CHECK(result_to_response(R"({"statusCode":200,"body":"%%","isBase64Encoded":true})").status ==
        502);

  auto plain = result_to_response("hello");
  CHECK(plain.status == 200);
  CHECK(plain.body == "hello");
  CHECK(plain.headers[0].second == "text/plain; charset=utf-8");
  CHECK(result_to_response(R"({"a":1})").headers[0].second == "application/json");
  CHECK(result_to_response(std::string("\xff\x00", 2)).headers[0].second ==
        "application/octet-stream");

  CHECK(function_error_response(500, R"({"errorType":"Error"})").status == 502);
  CHECK(function_error_response(500, R"({"errorType":"Error"})").body ==
        R"({"errorType":"Error"})");
  CHECK(function_error_response(504, "{}").status == 504);
  CHECK(function_error_response(429, "{}").status == 429);
  CHECK(function_error_response(404, "{}").status == 404);
}

TEST_CASE("responses: framing is ours, header injection is refused") {
  HttpResponse r;
  r.status = 200;
  r.headers = {
      {"X-Ok", "1"}, {"X-Bad", "a\r\nInjected: yes"}, {"Content-Length", "999"}, {"Bad Name", "x"}};
  r.body = "abc";
  std::string wire = serialize_response(r, {true, false, false});
  CHECK(wire == "HTTP/1.1 200 OK\r\nX-Ok: 1\r\nContent-Length: 3\r\n\r\nabc");
  CHECK(serialize_response(r, {false, false, true}) ==
        "HTTP/1.1 200 OK\r\nX-Ok: 1\r\nContent-Length: 3\r\nConnection: close\r\n\r\n");
  CHECK(serialize_response(r, {true, true, false}).find("Connection: keep-alive") !=
        std::string::npos);
}

TEST_CASE("base64 and UTF-8 helpers") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode(std::string("\xfb\xff", 2)) == "+/8=");
  CHECK(valid_utf8("héllo ✓ 😀"));
  CHECK(!valid_utf8("\xc0\xaf"));      // overlong
  CHECK(!valid_utf8("\xed\xa0\x80"));  // surrogate
  CHECK(!valid_utf8("\xe2\x82"));      // truncated
}

TEST_CASE("is_json_text agrees with nlohmann::json::accept") {
  const char* cases[] = {
      "{}", "[]", "0", "-0", "1.5e-3", "\"x\"", "true", "false", "null", " \t\n{\"a\":[1,2,{\"b\":null}]} ",
      "\"\\u00e9\\n\\\"\"", "\"h\xc3\xa9llo\"", "[1,]", "{\"a\":}", "{\"a\" 1}", "{a:1}", "01", "1.", ".5",
      "-", "1e", "1e+", "tru", "nul", "\"\\x\"", "\"\\u12\"", "\"abc", "[", "]", "", "  ", "{} {}",
      "\"\x01\"", "\"\xff\"", "\"\xed\xa0\x80\"", "[[[]]]", "{\"a\":1,}", "hello", "1 2"};
  for (const char* c : cases) {
    INFO(c);
    CHECK(is_json_text(c) == json::accept(c));
  }
  CHECK(is_json_text(std::string(512, '[') + std::string(512, ']')));
  CHECK(!is_json_text(std::string(100000, '[') + std::string(100000, ']')));  // depth, no crash
}

TEST_CASE("append_json_string: parses back to the input; non-UTF-8 bytes become U+FFFD") {
  for (std::string s : {std::string("plain"), std::string("q\"b\\s/\n\r\t\b\f"),
                        std::string("\x01\x1f\x7f", 3), std::string("h\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80"),
                        std::string("a\0b", 3)}) {
    std::string out;
    append_json_string(out, s);
    CHECK(json::parse(out).get<std::string>() == s);
  }
  std::string out;
  append_json_string(out, "a\xff" "b\xe2\x82");
  CHECK(json::parse(out).get<std::string>() == "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_CASE("--listen parsing") {
  std::string host;
  int port = -1;
  REQUIRE(parse_listen("127.0.0.1:0", host, port));
  CHECK(host == "127.0.0.1");
  CHECK(port == 0);
  REQUIRE(parse_listen("[::1]:8080", host, port));
  CHECK(host == "::1");
  CHECK(port == 8080);
  REQUIRE(parse_listen("9000", host, port));
  CHECK(host == "0.0.0.0");
  CHECK(!parse_listen("host:99999", host, port));
  CHECK(!parse_listen("host:", host, port));
}
