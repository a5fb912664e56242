#pragma once
// HTTP routes from `http` bindings, matched the way API Gateway matches resources: literal
// segments beat `{param}` segments, which beat a greedy `{proxy+}` tail; a route listing the
// request's method beats one that takes any method. Loop thread only.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/binding.hpp"

namespace natsfn {

struct RouteMatch {
  std::string function;
  std::string resource;  // the route's template, e.g. "/users/{id}"
  std::vector<std::pair<std::string, std::string>> path_params;  // decoded values
};

struct RouteLookup {
  std::optional<RouteMatch> match;
  // The path exists for other methods (405 rather than 404); "GET,POST".
  std::string allowed_methods;
};

class RouteTable {
 public:
  explicit RouteTable(bool default_routes = false) : default_routes_(default_routes) {}

  // Adds or replaces the route stored under b.key().
  void put(const Binding& b);
  void erase(const std::string& key);
  size_t size() const { return routes_.size(); }

  // path is the raw (still percent-encoded) path of the request target.
  RouteLookup lookup(std::string_view method, std::string_view path) const;

 private:
  struct Segment {
    enum class Kind { literal, param, greedy } kind;
    std::string text;  // literal text or parameter name
  };
  struct Route {
    Binding binding;
    std::vector<Segment> segments;
  };

  bool default_routes_;
  std::map<std::string, Route> routes_;  // by binding key; ordered so ties break the same way
};

// "%2Fa+b" → "/a+b"; malformed escapes are kept as they are.
std::string percent_decode(std::string_view s, bool plus_is_space = false);

}  // namespace natsfn
