#include "bridge-http/src/route_table.hpp"

#include <algorithm>
#include <tuple>

#include "core/names.hpp"
#include "core/split.hpp"

namespace natsfn {
namespace {

// Empty segments are dropped, so "/a//b/" and "/a/b" are the same route, as in API Gateway.
std::vector<std::string_view> split_path(std::string_view path) {
  return split(path, '/', EmptyParts::drop);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool method_listed(const std::vector<std::string>& methods, std::string_view method) {
  for (auto& m : methods)
    if (m == method || (method == "HEAD" && m == "GET")) return true;
  return false;
}

}  // namespace

std::string percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

void RouteTable::put(const Binding& b) {
  Route r{b, {}};
  for (auto seg : split_path(b.path)) {
    if (seg.size() >= 3 && seg.front() == '{' && seg.back() == '}') {
      std::string_view name = seg.substr(1, seg.size() - 2);
      if (name.back() == '+')
        r.segments.push_back({Segment::Kind::greedy, std::string(name.substr(0, name.size() - 1))});
      else
        r.segments.push_back({Segment::Kind::param, std::string(name)});
    } else {
      r.segments.push_back({Segment::Kind::literal, std::string(seg)});
    }
  }
  routes_[b.key()] = std::move(r);
}

void RouteTable::erase(const std::string& key) { routes_.erase(key); }

RouteLookup RouteTable::lookup(std::string_view method, std::string_view path) const {
  auto parts = split_path(path);
  RouteLookup result;
  const Route* best = nullptr;
  std::vector<std::pair<std::string, std::string>> best_params;
  // Higher is more specific: no greedy tail, then more literal segments, then more segments,
  // then an explicit method list.
  std::tuple<int, int, size_t, int> best_rank{-1, -1, 0, -1};
  std::vector<std::string> allowed;

  for (auto& [key, route] : routes_) {
    const auto& segs = route.segments;
    std::vector<std::pair<std::string, std::string>> params;
    int literals = 0;
    bool greedy = false;
    bool ok = true;
    size_t i = 0;
    for (; i < segs.size() && ok; ++i) {
      const Segment& s = segs[i];
      if (s.kind == Segment::Kind::greedy) {
        // A greedy tail takes one or more remaining segments, joined back with '/'.
        if (i >= parts.size() || i + 1 != segs.size()) {
          ok = false;
          break;
        }
        std::string rest;
        for (size_t k = i; k < parts.size(); ++k) {
          if (k > i) rest += '/';
          rest += percent_decode(parts[k]);
        }
        params.emplace_back(s.text, std::move(rest));
        greedy = true;
        i = segs.size();
        break;
      }
      if (i >= parts.size()) {
        ok = false;
      } else if (s.kind == Segment::Kind::literal) {
        ok = s.text == parts[i];
        ++literals;
      } else {
        params.emplace_back(s.text, percent_decode(parts[i]));
      }
    }
    if (!ok || (!greedy && segs.size() != parts.size())) continue;
    const auto& methods = route.binding.methods;
    if (!methods.empty() && !method_listed(methods, method)) {
      for (auto& m : methods)
        if (std::find(allowed.begin(), allowed.end(), m) == allowed.end()) allowed.push_back(m);
      continue;
    }
    std::tuple<int, int, size_t, int> rank{greedy ? 0 : 1, literals, segs.size(),
                                           methods.empty() ? 0 : 1};
    if (rank > best_rank) {
      best_rank = rank;
      best = &route;
      best_params = std::move(params);
    }
  }

  if (best != nullptr) {
    result.match = RouteMatch{best->binding.function, best->binding.path, std::move(best_params)};
    return result;
  }
  if (default_routes_ && !parts.empty()) {
    std::string function = percent_decode(parts[0]);
    if (validate_function_name(function)) {
      RouteMatch m{function, "/" + function, {}};
      if (parts.size() > 1) {
        std::string rest;
        for (size_t k = 1; k < parts.size(); ++k)
          rest += (k > 1 ? "/" : "") + percent_decode(parts[k]);
        m.resource += "/{proxy+}";
        m.path_params.emplace_back("proxy", std::move(rest));
      }
      result.match = std::move(m);
      return result;
    }
  }
  for (auto& m : allowed) result.allowed_methods += (result.allowed_methods.empty() ? "" : ",") + m;
  return result;
}

}  // namespace natsfn
