#include "tcp_socket.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

namespace natsfn::telnet {
namespace {

int millis_until(TcpSocket::Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - TcpSocket::Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

struct AddrInfoDeleter {
  void operator()(addrinfo* info) const noexcept { freeaddrinfo(info); }
};

// Connects one address without blocking past deadline. Returns the fd or -1 with error set.
int connect_one(const addrinfo& ai, TcpSocket::Clock::time_point deadline, std::string& error) {
  const int fd = ::socket(ai.ai_family, ai.ai_socktype | SOCK_CLOEXEC, ai.ai_protocol);
  if (fd < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  const int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int rc = ::connect(fd, ai.ai_addr, ai.ai_addrlen);
  if (rc < 0 && errno == EINPROGRESS) {
    pollfd pfd{fd, POLLOUT, 0};
    rc = ::poll(&pfd, 1, millis_until(deadline));
    if (rc == 0) {
      error = "connect timed out";
      ::close(fd);
      return -1;
    }
    int so_error = 0;
    socklen_t len = sizeof so_error;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    rc = so_error == 0 ? 0 : -1;
    errno = so_error;
  }
  if (rc < 0) {
    error = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  // Reads poll with deadlines, writes go back to blocking so send_all stays simple.
  fcntl(fd, F_SETFL, flags);
  // A transcript is a conversation of small writes; Nagle would only add latency to it.
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

std::optional<TcpSocket> TcpSocket::connect(const std::string& host, const std::string& port,
                                            Clock::time_point deadline, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* raw = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &raw); rc != 0) {
    error = "resolve " + host + ": " + gai_strerror(rc);
    return std::nullopt;
  }
  const std::unique_ptr<addrinfo, AddrInfoDeleter> list(raw);
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    const int fd = connect_one(*ai, deadline, error);
    if (fd >= 0) return TcpSocket(fd);
  }
  error = host + ":" + port + ": " + error;
  return std::nullopt;
}

TcpSocket::TcpSocket(TcpSocket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

TcpSocket& TcpSocket::operator=(TcpSocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

TcpSocket::~TcpSocket() {
  if (fd_ >= 0) ::close(fd_);
}

bool TcpSocket::send_all(std::string_view bytes, std::string& error) {
  while (!bytes.empty()) {
    // MSG_NOSIGNAL: a server that hung up must give us an error to report, not SIGPIPE.
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::string("send: ") + std::strerror(errno);
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

TcpSocket::ReadStatus TcpSocket::read_some(std::string& out, Clock::time_point deadline,
                                           std::string& error) {
  for (;;) {
    pollfd pfd{fd_, POLLIN, 0};
    const int rc = ::poll(&pfd, 1, millis_until(deadline));
    if (rc < 0) {
      if (errno == EINTR) continue;
      error = std::string("poll: ") + std::strerror(errno);
      return ReadStatus::kError;
    }
    if (rc == 0) return ReadStatus::kTimeout;
    char chunk[16 * 1024];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      error = std::string("recv: ") + std::strerror(errno);
      return ReadStatus::kError;
    }
    if (n == 0) return ReadStatus::kClosed;
    out.append(chunk, static_cast<std::size_t>(n));
    return ReadStatus::kData;
  }
}

}  // namespace natsfn::telnet
