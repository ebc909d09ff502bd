#include "engine/instance.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/system_executor.hpp>
#include <utility>

#include "engine/guest.hpp"
#include "engine/worker.hpp"

namespace wasio {

namespace {
exit_status stopped_with(std::string why) { return exit_status{exit_status::kind::stopped, 0, std::move(why)}; }
}  // namespace

namespace detail {

instance make_instance(std::shared_ptr<instance_link> link) { return instance(std::move(link)); }

std::shared_ptr<call_cancel> make_call_cancel() { return std::make_shared<call_cancel>(); }

void cancel(call_cancel& c) {
  c.cancelled = true;
  std::lock_guard lock(c.mu);
  if (c.action) c.action();
}

}  // namespace detail

instance& instance::operator=(instance&& o) noexcept {
  if (this != &o) {
    instance gone(std::move(*this));
    link_ = std::move(o.link_);
  }
  return *this;
}

instance::~instance() {
  if (!link_) return;
  std::lock_guard lock(link_->mu);
  if (!link_->host) return;
  // Handlers posted to the worker hold the host weakly: one still queued when the worker goes
  // (an embedded runtime leaves the embedder's loop behind) must not keep its V8 handles.
  asio::post(link_->worker->io(), [w = std::weak_ptr(link_->host)] {
    if (auto h = w.lock()) h->close("the instance was closed");
  });
}

guest_memory instance::memory() const {
  if (!link_) return {};
  std::lock_guard lock(link_->mu);
  return link_->memory;
}

std::optional<uint64_t> instance::fuel() const {
  if (!link_) return std::nullopt;
  std::lock_guard lock(link_->mu);
  if (!link_->host) return std::nullopt;
  return link_->fuel;
}

bool instance::set_fuel(uint64_t ticks) {
  if (!link_) return false;
  std::lock_guard lock(link_->mu);
  if (!link_->host || !link_->fuel) return false;
  link_->refill = link_->fuel = ticks;
  return true;
}

void instance::submit(const std::shared_ptr<detail::instance_link>& link, std::string name, std::vector<value> args,
                      std::shared_ptr<detail::call_cancel> cancel,
                      std::function<void(guest_result<std::vector<value>>)> done) {
  // Completed at once, but never from within the initiating function (Asio's rule).
  auto now = [&](exit_status s) {
    asio::post(asio::system_executor(), [done = std::move(done), s = std::move(s)] { done(s); });
  };
  if (!link) return now(exit_status{exit_status::kind::failed, 0, "call on an empty instance"});
  std::lock_guard lock(link->mu);
  if (!link->host) return now(stopped_with("the instance is closed"));
  engine::pending_call c{std::move(name), std::move(args), std::move(cancel), std::move(done)};
  if (c.cancel) {
    // Until it runs, a cancellation completes it at once, from the cancelling thread, without
    // waiting for the calls ahead (the worker may be busy with one that computes, and not see
    // its queue); the worker then skips it.
    std::lock_guard clock(c.cancel->mu);
    c.cancel->action = [cancel = c.cancel.get(), done = c.done] {
      if (!cancel->completed.exchange(true)) done(stopped_with("cancelled"));
    };
  }
  asio::post(link->worker->io(), [w = std::weak_ptr(link->host), c = std::move(c)]() mutable {
    if (auto h = w.lock()) return h->submit(std::move(c));
    c.complete(stopped_with("the instance is closed"));
  });
}

exit_status instance::wrong_results(const std::string& name, size_t count) {
  return exit_status{exit_status::kind::failed, 0,
                     "export '" + name + "' returned " + std::to_string(count) +
                         " results, of other types than the call asked for"};
}

}  // namespace wasio

namespace wasio::engine {

instance_host::instance_host(worker& w, std::shared_ptr<guest> g, std::shared_ptr<detail::guest_control> c)
    : worker_(w), guest_(std::move(g)), control_(std::move(c)) {}

instance_host::~instance_host() = default;

std::shared_ptr<detail::instance_link> instance_host::link() {
  if (!link_) {
    link_ = std::make_shared<detail::instance_link>();
    link_->host = shared_from_this();
    link_->worker = &worker_;
    link_->memory = guest_->memory_snapshot();
    link_->fuel = guest_->fuel_left();
  }
  return link_;
}

void instance_host::set_action(const pending_call& c, std::function<void()> a) {
  if (!c.cancel) return;
  std::lock_guard lock(c.cancel->mu);
  c.cancel->action = std::move(a);
}

void instance_host::submit(pending_call c) {
  if (closing_) return c.complete(stopped_with(close_reason_));
  queue_.push_back(std::move(c));
  if (!serving_) {
    serving_ = true;
    asio::co_spawn(worker_.io(), [self = shared_from_this()] { return self->serve(); }, asio::detached);
  }
}

asio::awaitable<void> instance_host::serve() {
  while (!queue_.empty()) {
    pending_call c = std::move(queue_.front());
    queue_.pop_front();
    if (c.cancel && c.cancel->cancelled) {
      set_action(c, nullptr);
      c.complete(stopped_with("cancelled"));
      continue;
    }
    std::optional<uint64_t> refill;
    {
      std::lock_guard lock(link_->mu);
      refill = std::exchange(link_->refill, std::nullopt);
    }
    if (refill) guest_->refill_fuel(*refill);
    uint64_t seq = control_->begin_call();
    set_action(c, [control = control_, seq] { control->cancel_call(seq); });
    if (c.cancel && c.cancel->cancelled) control_->cancel_call(seq);  // cancelled just before
    auto r = co_await guest_->call(c.name, std::move(c.args));
    control_->end_call();
    set_action(c, nullptr);
    auto fuel = guest_->fuel_left();
    {
      std::lock_guard lock(link_->mu);
      link_->memory = guest_->memory_snapshot();
      if (!link_->refill) link_->fuel = fuel;  // else set_fuel's, for the next call
    }
    c.complete(std::move(r));
  }
  serving_ = false;
  if (closing_) finish();
}

void instance_host::close(const std::string& why) {
  if (closing_) return;
  closing_ = true;
  close_reason_ = why;
  {
    std::lock_guard lock(link_->mu);
    link_->host.reset();  // the worker's registry still holds this
  }
  while (!queue_.empty()) {
    pending_call c = std::move(queue_.front());
    queue_.pop_front();
    set_action(c, nullptr);
    c.complete(stopped_with(why));
  }
  if (serving_) {
    control_->request_stop(detail::guest_control::reason::cancelled);  // the running call
  } else {
    finish();
  }
}

void instance_host::finish() { worker_.instance_closed(this); }

}  // namespace wasio::engine
