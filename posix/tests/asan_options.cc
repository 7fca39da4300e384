// AddressSanitizer's options for posix_tests (compiled in only under ASan).
//
// detect_leaks=0: the handlers here are unmodified servers (the seeds as published) whose runs
// the kit ends by unwinding out of their entry: what they allocated is theirs and never freed
// (seed 001 mallocs per connection), so LeakSanitizer would report the servers' leaks as the
// test's. The kit's own code keeps its leak checks in every other test binary.
// symbolize=0: the isolated runs' children crash by the hundred (seed 001's strcpy into
// buf[1024]); symbolizing each report's stack would cost most of the label's time. The report
// still names the error; the oracle (handler-crashed) does not depend on it.
#if defined(__SANITIZE_ADDRESS__)
#define EDGECASE_POSIX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EDGECASE_POSIX_ASAN 1
#endif
#endif

#ifdef EDGECASE_POSIX_ASAN
extern "C" const char* __asan_default_options() { return "detect_leaks=0:symbolize=0"; }
#endif
