// watchdog: one thread per runtime that looks at each worker's running guest every period:
// it asks a guest that used up its time slice to yield at its next WASI call, and stops one
// past its CPU or wall time limit while it computes (a guest suspended on its worker's loop is
// stopped by a timer there instead). It sleeps while no guest exists.
#pragma once
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace wasio::engine {

class worker;

class watchdog {
 public:
  // Looks at each worker every `period`.
  explicit watchdog(std::chrono::milliseconds period = std::chrono::milliseconds(2));
  ~watchdog();
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;

  void watch(std::vector<worker*> workers);  // once, before any guest starts
  // Ends the thread (the runtime's first step of destruction: the workers it looks at go next).
  void stop();
  void guest_started();  // any thread
  void guest_ended();
  std::chrono::milliseconds period() const { return period_; }

 private:
  void loop();
  std::chrono::milliseconds period_;
  std::vector<worker*> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  int limited_ = 0;
  bool quit_ = false;
  std::thread thread_;
};

}  // namespace wasio::engine
