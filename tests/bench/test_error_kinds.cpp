// Every subsystem's errors derive from the one locus::Error (util/error.hpp), and each says whether
// the caller's input was at fault: the command line's exit status and the Python class follow it.

#include <catch2/catch.hpp>

#include "agents/errors.hpp"
#include "bench/harness/errors.hpp"
#include "config/errors.hpp"
#include "config/reader.hpp"
#include "envs/errors.hpp"
#include "neuromod/errors.hpp"
#include "neuromod/spiking/errors.hpp"

namespace {
template <class E>
locus::ErrorKind kind_of() {
  try {
    throw E("message");
  } catch (const locus::Error& error) {
    CHECK(std::string(error.what()) == "message");
    return error.kind();
  }
}
}  // namespace

TEST_CASE("Bad input is a usage error in every subsystem", "[errors]") {
  using locus::ErrorKind;
  CHECK(kind_of<locus::config::ParseError>() == ErrorKind::kUsage);
  CHECK(kind_of<locus::config::ConfigError>() == ErrorKind::kUsage);
  CHECK(kind_of<locus::envs::InvalidArgumentError>() == ErrorKind::kUsage);
  CHECK(kind_of<locus::envs::UnsupportedRenderModeError>() == ErrorKind::kUsage);
  CHECK(kind_of<locus::envs::UnknownEnvError>() == ErrorKind::kUsage);
  CHECK(kind_of<locus::agents::ConfigError>() == ErrorKind::kUsage);
  CHECK(kind_of<locus::neuromod::InvalidArgumentError>() == ErrorKind::kUsage);
  CHECK(kind_of<locus::neuromod::spiking::InvalidArgumentError>() == ErrorKind::kUsage);
  CHECK(kind_of<locus::bench::InvalidArgumentError>() == ErrorKind::kUsage);
}

TEST_CASE("What goes wrong while running is a runtime error in every subsystem", "[errors]") {
  using locus::ErrorKind;
  CHECK(kind_of<locus::envs::CheckError>() == ErrorKind::kRuntime);
  CHECK(kind_of<locus::envs::PluginError>() == ErrorKind::kRuntime);
  CHECK(kind_of<locus::neuromod::CheckpointError>() == ErrorKind::kRuntime);
  CHECK(kind_of<locus::neuromod::DeviceError>() == ErrorKind::kRuntime);
  CHECK(kind_of<locus::neuromod::spiking::IoError>() == ErrorKind::kRuntime);
  CHECK(kind_of<locus::agents::CheckpointError>() == ErrorKind::kRuntime);
  CHECK(kind_of<locus::agents::TrainingError>() == ErrorKind::kRuntime);
  CHECK(kind_of<locus::bench::SweepStateError>() == ErrorKind::kRuntime);
}
