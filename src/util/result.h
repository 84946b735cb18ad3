// Result<T>: the value of an operation that bad input can make fail, or an Error
// whose message names the file, field or request part that is wrong.
//
// Every boundary where input enters (files, JSON, command lines, HTTP) returns a
// Result; internal invariants that input cannot break use DSEEK_CHECK instead.
// No exceptions cross module boundaries: code that calls a throwing library
// (nlohmann::json) catches at the call site and converts to an Error.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace dseek {

struct Error {
  std::string message;

  // Prefixes context, e.g. Error{"bad dtype"}.within("model.safetensors")
  // -> "model.safetensors: bad dtype".
  Error within(const std::string& context) const { return Error{context + ": " + message}; }
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok_status() { return Status{}; }

// Propagates the error of a Result-returning expression; the one macro the
// project uses for that (the value form is written out where needed).
#define DSEEK_TRY(expr)                          \
  do {                                           \
    auto dseek_try_result_ = (expr);             \
    if (!dseek_try_result_.ok()) return dseek_try_result_.error(); \
  } while (0)

// Broken internal invariants (not bad input): abort with file:line.
#define DSEEK_CHECK(cond)                                                          \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      std::fprintf(stderr, "dseek: internal error at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                \
    }                                                                              \
  } while (0)

}  // namespace dseek
