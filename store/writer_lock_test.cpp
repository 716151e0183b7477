// The store's writer lock: one writer at a time, readers never blocked, no stale lock.
#include "store/writer_lock.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"

namespace memes::store {
namespace {

namespace fs = std::filesystem;

fs::path TempStore(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("memes-lock-test-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(WriterLock, ASecondWriterIsRefusedWithTheHoldersPid) {
  const fs::path dir = TempStore("second");
  auto first = Store::Open(dir);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = Store::Open(dir);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("PID " + std::to_string(::getpid())), std::string::npos)
      << second.status().ToString();
  EXPECT_NE(second.status().where().find("lock"), std::string::npos);

  StoreOptions read;
  read.access = StoreAccess::kRead;
  auto reader = Store::Open(dir, read);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();

  first->reset();  // released with the Store
  EXPECT_TRUE(Store::Open(dir).ok());
  fs::remove_all(dir);
}

TEST(WriterLock, ALockFileLeftByAKilledHolderDoesNotBlock) {
  const fs::path dir = TempStore("stale");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto lock = WriterLock::Acquire(dir);
    ::_exit(lock.ok() ? 0 : 1);  // dies holding the lock: the kernel releases it
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_TRUE(fs::exists(WriterLock::PathIn(dir)));  // the file stays, holding the dead PID
  auto lock = WriterLock::Acquire(dir);
  EXPECT_TRUE(lock.ok()) << lock.status().ToString();
  fs::remove_all(dir);
}

TEST(WriterLock, GarbageInTheLockFileIsNotEchoed) {
  const fs::path dir = TempStore("garbage");
  auto held = WriterLock::Acquire(dir);
  ASSERT_TRUE(held.ok());
  {
    FILE* file = std::fopen(WriterLock::PathIn(dir).c_str(), "w");
    ASSERT_NE(file, nullptr);
    std::fputs("\x1b]0;evil\x07", file);
    std::fclose(file);
  }
  auto second = WriterLock::Acquire(dir);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("PID unknown"), std::string::npos);
  EXPECT_EQ(second.status().message().find("evil"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace memes::store
