# Finds every dependency from Debian 12's packages. A miss stops configuration with the name of
# the package that provides it, so `apt-get install <that>` (or scripts/setup.sh) fixes it.

find_package(PkgConfig QUIET)
if(NOT PkgConfig_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config")
endif()

set(MEMES_MISSING_PACKAGES "")

# memes_require_pkgconfig(<imported target name> <debian package> <pkg-config modules...>)
function(memes_require_pkgconfig target debian_package)
  pkg_check_modules(${target} QUIET IMPORTED_TARGET GLOBAL ${ARGN})
  if(NOT ${target}_FOUND)
    set(MEMES_MISSING_PACKAGES "${MEMES_MISSING_PACKAGES} ${debian_package}" PARENT_SCOPE)
  endif()
endfunction()

# memes_require_package(<find_package name> <debian package> [find_package args...])
macro(memes_require_package name debian_package)
  find_package(${name} QUIET ${ARGN})
  if(NOT ${name}_FOUND)
    set(MEMES_MISSING_PACKAGES "${MEMES_MISSING_PACKAGES} ${debian_package}")
  endif()
endmacro()

memes_require_pkgconfig(FFMPEG "libavformat-dev libavcodec-dev libavutil-dev libswscale-dev"
                        libavformat libavcodec libavutil libswscale)
memes_require_pkgconfig(WEBP "libwebp-dev" libwebp libwebpdemux libwebpmux)
memes_require_pkgconfig(CURL "libcurl4-openssl-dev" libcurl)
memes_require_pkgconfig(SQLITE3 "libsqlite3-dev" sqlite3)
memes_require_pkgconfig(GUMBO "libgumbo-dev" gumbo)
memes_require_pkgconfig(JPEG "libjpeg62-turbo-dev" libjpeg)
memes_require_pkgconfig(RE2 "libre2-dev" re2)
memes_require_pkgconfig(HTTPLIB "libcpp-httplib-dev" cpp-httplib)

memes_require_package(OpenSSL libssl-dev)
memes_require_package(TBB libtbb-dev CONFIG)
memes_require_package(OpenCV libopencv-dev CONFIG COMPONENTS core imgproc imgcodecs img_hash)
memes_require_package(tomlplusplus libtomlplusplus-dev CONFIG)
memes_require_package(CLI11 libcli11-dev CONFIG)
memes_require_package(nlohmann_json nlohmann-json3-dev CONFIG)
memes_require_package(Threads "libc6-dev")
if(MEMES_BUILD_TESTS)
  memes_require_package(GTest libgtest-dev CONFIG)
endif()
if(MEMES_BUILD_BENCHMARKS)
  memes_require_package(benchmark libbenchmark-dev CONFIG)
endif()

# LibTorch: Debian's libtorch-dev (CPU) by default; on a GPU machine point CMAKE_PREFIX_PATH at
# `python3 -c 'import torch;print(torch.utils.cmake_prefix_path)'` to build against CUDA LibTorch.
# TorchConfig prints a lot and probes CUDA; keep it quiet unless it fails.
find_package(Torch QUIET CONFIG)
if(NOT Torch_FOUND)
  set(MEMES_MISSING_PACKAGES "${MEMES_MISSING_PACKAGES} libtorch-dev")
endif()
# train/distributed.cpp: LibTorch's c10d Gloo process group includes <gloo/...> and calls into
# libgloo (Debian's libgloo-dev; libtorch-dev does not pull it in). NCCL only with a CUDA
# LibTorch built with it: -DMEMES_C10D_NCCL=ON.
find_library(MEMES_GLOO_LIBRARY gloo)
find_path(MEMES_GLOO_INCLUDE gloo/allreduce.h)
if(NOT MEMES_GLOO_LIBRARY OR NOT MEMES_GLOO_INCLUDE)
  set(MEMES_MISSING_PACKAGES "${MEMES_MISSING_PACKAGES} libgloo-dev")
endif()
option(MEMES_C10D_NCCL "LibTorch has c10d's NCCL process group (CUDA builds)" OFF)

if(NOT MEMES_MISSING_PACKAGES STREQUAL "")
  string(STRIP "${MEMES_MISSING_PACKAGES}" MEMES_MISSING_PACKAGES)
  message(FATAL_ERROR
    "memes: missing dependencies. Install them with:\n"
    "  sudo apt-get install ${MEMES_MISSING_PACKAGES}\n"
    "or run scripts/setup.sh, which installs everything the build and tests need.")
endif()
