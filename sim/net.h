// The loopback network of one simulated kernel: addresses 127.0.0.0/8 and the TCP port table.
// (Placeholder until the TCP layer fills it in.)
#pragma once

namespace edgecase::sim {

class Net {
 public:
  Net() = default;
  Net(const Net&) = delete;
  Net& operator=(const Net&) = delete;
};

}  // namespace edgecase::sim
