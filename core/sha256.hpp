#pragma once
// Streaming SHA-256 over OpenSSL's EVP interface, so objects of any size hash in one pass while
// they are read or written, without holding them in memory.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace natsfn {

using Sha256Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t len);
  void update(std::string_view data) { update(data.data(), data.size()); }
  // Returns the digest of everything fed so far and resets the hasher for reuse.
  Sha256Digest finish();

  // One-shot convenience for small inputs and tests.
  static Sha256Digest of(std::string_view data);

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace natsfn
