// watchdog: one thread per runtime that stops guests past their CPU or wall time limit while
// they compute (a guest suspended on its worker's loop is stopped by a timer there instead).
// It sleeps while no guest with a time limit exists.
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
  void guest_started();  // a guest with a time limit started; any thread
  void guest_ended();

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
