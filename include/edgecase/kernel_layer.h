// edgecase::KernelLayer — the base of every pass-through layer: a Kernel that forwards each call
// to an inner Kernel, generated from the call table (kernel_calls.def).
//
// A layer (the observer, the handler's kernel in a World, the live runner's kernel, a test's
// interleaver) overrides the calls it treats specially and handles every other call in one
// place, around(): it sees the call's name and the fd it acts on, and runs `forward` (the inner
// call) when it chooses. A call added to the table reaches every layer through around() with no
// edit to the layers.
#pragma once

#include <utility>

#include "edgecase/kernel.h"

namespace edgecase {

// The fd column of a call that acts on no open file (EDGECASE_NO_FD in the table).
struct NoFd {};

// One call as around() sees it.
struct CallSite {
  CallSite(const char* call, int file) : name(call), fd(file), names_fd(true) {}
  CallSite(const char* call, NoFd) : name(call) {}
  const char* name;  // the call's name in the table: "bind"
  int fd = -1;       // the fd the call acts on; -1 when it names none
  bool names_fd = false;  // whether the call has an fd argument (which may itself be -1)
};

// The inner call, as a non-owning reference to the generated forwarding lambda. Results travel
// as long: every call in the table returns int or ssize_t.
class Forward {
 public:
  template <class F>
  explicit Forward(F& f)
      : f_(&f), call_([](void* p) -> long { return (*static_cast<F*>(p))(); }) {}
  long operator()() const { return call_(f_); }

 private:
  void* f_;
  long (*call_)(void*);
};

class KernelLayer : public Kernel {
 public:
  explicit KernelLayer(Kernel& inner) : inner_(inner) {}

#define EDGECASE_KERNEL_CALL(ret, name, params, args, fd)                   \
  ret name params override {                                                 \
    auto forward = [&]() -> long { return inner_.name args; };              \
    return static_cast<ret>(around(CallSite(#name, fd), Forward(forward))); \
  }
#include "edgecase/kernel_calls.def"

 protected:
  // Every call the layer does not override comes here. The default forwards it unchanged.
  virtual long around(const CallSite& call, Forward forward) {
    (void)call;
    return forward();
  }
  Kernel& inner() const { return inner_; }

 private:
  Kernel& inner_;
};

}  // namespace edgecase
