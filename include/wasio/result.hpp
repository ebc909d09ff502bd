// result<T>: the value of a WASI call or the WASI errno it failed with (Boost.Outcome).
#pragma once
#include <boost/outcome/result.hpp>
#include <boost/outcome/try.hpp>

#include "wasio/errno.hpp"

namespace wasio {

namespace outcome = BOOST_OUTCOME_V2_NAMESPACE;

// `terminate` policy: reading the value of a failed result is a host bug, never UB.
template <class T>
using result = outcome::result<T, errc, outcome::policy::terminate>;

// Success of a call that returns nothing.
inline result<void> ok() { return outcome::success(); }

}  // namespace wasio

// Binds `var` to the value of result `expr`, or returns its error from the enclosing function.
#define WASIO_TRY(var, expr)                                      \
  auto var##_result_ = (expr);                                    \
  if (!var##_result_) return var##_result_.as_failure();          \
  auto var = std::move(var##_result_).value()

// Coroutine flavour of BOOST_OUTCOME_TRY (Boost 1.74 has no CO_TRY): binds `var` to the value of
// `expr`, or co_returns its error.
#define WASIO_CO_TRY(var, expr)                                   \
  auto var##_result_ = (expr);                                    \
  if (!var##_result_) co_return var##_result_.as_failure();       \
  auto var = std::move(var##_result_).value()
