#include <catch2/catch.hpp>

#include "core/duration.hpp"

using namespace natsfn;

TEST_CASE("durations parse to whole milliseconds", "[duration]") {
  CHECK(parse_duration("3s").value() == 3000);
  CHECK(parse_duration("500ms").value() == 500);
  CHECK(parse_duration("1.5s").value() == 1500);
  CHECK(parse_duration("1.001s").value() == 1001);
  CHECK(parse_duration("2m").value() == 120000);
  CHECK(parse_duration("0.5m").value() == 30000);
  CHECK(parse_duration("250").value() == 250);
  CHECK(parse_duration("0").value() == 0);
  CHECK(parse_duration("0s").value() == 0);
}

TEST_CASE("bad durations say how to write one", "[duration]") {
  // "1.5" is 1.5 ms, not a whole number of milliseconds.
  for (const char* bad :
       {"", "s", "abc", "3h", "3 s", " 3s", "-1s", "1.s", ".5s", "1.5", "0.5ms", "1.0001s", "100us",
        "3S", "1e3", "99999999999999999999", "9223372036854775807m"}) {
    INFO(bad);
    auto r = parse_duration(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Errc::invalid_argument);
    CHECK(r.status().message() ==
          "invalid duration '" + std::string(bad) + "': use a number with ms, s or m");
  }
}

TEST_CASE("format_duration picks the largest exact unit and round-trips", "[duration]") {
  CHECK(format_duration(0) == "0s");
  CHECK(format_duration(250) == "250ms");
  CHECK(format_duration(1500) == "1.5s");
  CHECK(format_duration(1001) == "1.001s");
  CHECK(format_duration(3000) == "3s");
  CHECK(format_duration(90000) == "90s");
  CHECK(format_duration(120000) == "2m");
  for (int64_t ms : {0, 1, 999, 1000, 1234, 59999, 60000, 61500, 3600000, 86400001}) {
    CHECK(parse_duration(format_duration(ms)).value() == ms);
  }
}
