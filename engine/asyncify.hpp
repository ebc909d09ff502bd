// The asyncify suspension mode (see suspension.hpp).
#pragma once
#include <v8.h>

#include <memory>
#include <string>

#include "engine/suspension.hpp"

namespace wasio::engine {

class guest;

// The mode for an instance of an asyncified module; null with *why set when the instance lacks
// what it needs. A module that imports nothing blocking gets a mode that never suspends.
std::unique_ptr<suspension> make_asyncify_suspension(guest& g, v8::Local<v8::Context> ctx,
                                                     v8::Local<v8::Object> exports,
                                                     std::string* why);

// Runs `call` of an export of the guest of `s` (made by make_asyncify_suspension) to its end,
// awaiting each operation it blocks on; `call.results` are set when it returned. `call`
// outlives the coroutine.
asio::awaitable<run_end> run_asyncified(suspension& s, export_call& call);

}  // namespace wasio::engine
