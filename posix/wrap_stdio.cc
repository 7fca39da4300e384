// The handler's stdio (posix/wrap.list): printf, puts, perror and the FILE calls on stdout and
// stderr go to the run's log while a session is current (the compiler turns printf into puts,
// putchar or fwrite, so those are wrapped too). Other streams and no session: the real call.
#include <fmt/format.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>

#include "posix/layer.h"

using edgecase::posix::Session;
using edgecase::posix::current;
using namespace edgecase::posix::detail;

namespace {

// The stdio fd a stream writes to, when a session is current and it is stdout or stderr.
int log_fd(FILE* stream) {
  if (current() == nullptr) return -1;
  if (stream == stdout) return kStdout;
  if (stream == stderr) return kStderr;
  return -1;
}

int log_vprintf(int fd, const char* format, va_list ap) {
  va_list copy;
  va_copy(copy, ap);
  const int n = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (n < 0) return n;
  std::string out(static_cast<size_t>(n) + 1, '\0');
  std::vsnprintf(out.data(), out.size(), format, ap);
  out.resize(static_cast<size_t>(n));
  to_log(*current(), fd, out);
  return n;
}

}  // namespace

EDGECASE_WRAP int __wrap_vprintf(const char* format, va_list ap) {
  if (current() == nullptr) return std::vprintf(format, ap);
  return log_vprintf(kStdout, format, ap);
}

EDGECASE_WRAP int __wrap_printf(const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  const int n = __wrap_vprintf(format, ap);
  va_end(ap);
  return n;
}

EDGECASE_WRAP int __wrap_vfprintf(FILE* stream, const char* format, va_list ap) {
  const int fd = log_fd(stream);
  return fd < 0 ? std::vfprintf(stream, format, ap) : log_vprintf(fd, format, ap);
}

EDGECASE_WRAP int __wrap_fprintf(FILE* stream, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  const int n = __wrap_vfprintf(stream, format, ap);
  va_end(ap);
  return n;
}

// _FORTIFY_SOURCE's printf family (the flag only adds checks of %n we do not need here).
EDGECASE_WRAP int __wrap___printf_chk(int, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  const int n = __wrap_vprintf(format, ap);
  va_end(ap);
  return n;
}

EDGECASE_WRAP int __wrap___fprintf_chk(FILE* stream, int, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  const int n = __wrap_vfprintf(stream, format, ap);
  va_end(ap);
  return n;
}

EDGECASE_WRAP int __wrap_puts(const char* s) {
  if (current() == nullptr) return std::puts(s);
  to_log(*current(), kStdout, std::string(s) + "\n");
  return 1;
}

EDGECASE_WRAP int __wrap_fputs(const char* s, FILE* stream) {
  const int fd = log_fd(stream);
  if (fd < 0) return std::fputs(s, stream);
  to_log(*current(), fd, s);
  return 1;
}

EDGECASE_WRAP int __wrap_fputc(int c, FILE* stream) {
  const int fd = log_fd(stream);
  if (fd < 0) return std::fputc(c, stream);
  const char ch = static_cast<char>(c);
  to_log(*current(), fd, {&ch, 1});
  return static_cast<unsigned char>(c);
}

EDGECASE_WRAP int __wrap_putc(int c, FILE* stream) { return __wrap_fputc(c, stream); }

EDGECASE_WRAP int __wrap_putchar(int c) { return __wrap_fputc(c, stdout); }

EDGECASE_WRAP size_t __wrap_fwrite(const void* ptr, size_t size, size_t n, FILE* stream) {
  const int fd = log_fd(stream);
  if (fd < 0) return std::fwrite(ptr, size, n, stream);
  to_log(*current(), fd, {static_cast<const char*>(ptr), size * n});
  return n;
}

EDGECASE_WRAP int __wrap_fflush(FILE* stream) {
  if (log_fd(stream) >= 0) return 0;  // the log is unbuffered
  return std::fflush(stream);
}

// perror: "s: strerror(errno)\n" on stderr, as glibc writes it.
EDGECASE_WRAP void __wrap_perror(const char* s) {
  if (current() == nullptr) return std::perror(s);
  const int e = errno;
  std::string line = (s != nullptr && *s != '\0') ? std::string(s) + ": " : std::string();
  line += std::strerror(e);
  line += "\n";
  to_log(*current(), kStderr, line);
  errno = e;
}
