#include "bridge-http/src/bridge_options.hpp"

#include <charconv>

namespace natsfn {

Status parse_listen(const std::string& text, std::string& host, int& port) {
  auto bad = [&] {
    return Status(Errc::invalid_argument, "--listen '" + text + "' is not HOST:PORT");
  };
  std::string h;
  std::string p;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return bad();
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else if (size_t colon = text.rfind(':'); colon != std::string::npos) {
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
  } else {
    p = text;
  }
  int value = -1;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (p.empty() || ec != std::errc() || end != p.data() + p.size() || value < 0 || value > 65535)
    return bad();
  host = h.empty() ? "0.0.0.0" : h;
  port = value;
  return Status::OK();
}

}  // namespace natsfn
