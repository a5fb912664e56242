#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace natsfn::telnet {

/// A connected TCP socket, closed by the destructor. Move-only.
class TcpSocket {
 public:
  using Clock = std::chrono::steady_clock;

  enum class ReadStatus { kData, kTimeout, kClosed, kError };

  /// Connects to host:port, giving up at deadline. On failure returns nullopt and sets error.
  static std::optional<TcpSocket> connect(const std::string& host, const std::string& port,
                                          Clock::time_point deadline, std::string& error);

  TcpSocket(TcpSocket&& other) noexcept;
  TcpSocket& operator=(TcpSocket&& other) noexcept;
  TcpSocket(const TcpSocket&) = delete;
  TcpSocket& operator=(const TcpSocket&) = delete;
  ~TcpSocket();

  /// Writes every byte. Returns false and sets error when the connection fails.
  bool send_all(std::string_view bytes, std::string& error);

  /// Waits until deadline for bytes and appends what arrived to out.
  ReadStatus read_some(std::string& out, Clock::time_point deadline, std::string& error);

 private:
  explicit TcpSocket(int fd) : fd_(fd) {}

  int fd_ = -1;
};

}  // namespace natsfn::telnet
