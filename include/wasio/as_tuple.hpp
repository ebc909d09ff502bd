// wasio::as_tuple: Asio's as_tuple completion token adapter under one name for the Asio of
// Debian 12 (1.22: asio::experimental::as_tuple) and of Debian 13 (1.30: asio::as_tuple, since
// 1.24; the experimental one is gone there under ASIO_NO_DEPRECATED, which wasio::wasio sets).
#pragma once
#include <asio/version.hpp>

#if ASIO_VERSION >= 102400
#include <asio/as_tuple.hpp>
namespace wasio {
using asio::as_tuple;
}
#else
#include <asio/experimental/as_tuple.hpp>
namespace wasio {
using asio::experimental::as_tuple;
}
#endif
