// JSPI suspension (JS Promise Integration, V8 11's --experimental-wasm-stack-switching): the
// guest runs as given on its worker's shared isolate, and V8 itself suspends its wasm stack when
// a blocking import returns a promise, resuming it when the promise settles. The module is only
// prepared by binaryen's jspi pass (engine/rewrite_helper.cpp's jspi_rewrite): no instrumentation.
#pragma once
#include <memory>

#include "engine/suspension.hpp"

namespace wasio::engine {

class guest;

std::unique_ptr<suspension> make_jspi_suspension(guest& g);

asio::awaitable<run_end> run_jspi(suspension& s, export_call& call);

}  // namespace wasio::engine
