#include "autograd/atomic_file.hpp"

#include "autograd/errors.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <random>

namespace xgrad::detail {

// Note [atomic save]
// Every file xgrad writes (save_npy, save_npz and so Module::save, save_text and so the fit
// history, DOT graphs and SVG pictures) goes through AtomicFile:
// 1. The data go to a temporary file in the destination's directory (same file system, so the
//    rename below is atomic). Where the file system allows it (Linux O_TMPFILE: ext4, xfs,
//    btrfs, tmpfs) the file has no name while it is written, so a process killed then leaves
//    nothing behind; elsewhere it is "<path>.tmp.XXXXXX", created with O_EXCL. Either way the
//    name is unique: two threads or processes saving to one path each write a file of their own
//    and the last rename wins whole (a fixed "<path>.tmp" let them write into the same file, and
//    a save that reported success could leave an archive whose CRC did not match).
// 2. fsync, then (an anonymous file) linkat to a unique "<path>.tmp.XXXXXX", then rename over
//    `path`: readers see the old file or the new one, never a part. Synced before the rename,
//    the new name never points at data still only in the page cache.
// 3. fsync of the directory, so that after a power loss the rename itself is not undone.
// A process killed between linkat and rename (microseconds) or while writing a named temporary
// file leaves a "<path>.tmp.XXXXXX" that nothing reads; docs/reliability.md says what to do.
// Without commit() (an exception on the way) the temporary file is removed, `path` untouched.
namespace {

std::atomic<bool> anonymous_temp_files{true};  // set_anonymous_temp_files

std::string directory_of(const std::string& path) {
    const std::size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// linkat through /proc/self/fd/N needs /proc; without it an O_TMPFILE file could not be named.
bool proc_fd_links() {
    static const bool available = ::access("/proc/self/fd", X_OK) == 0;
    return available;
}

}  // namespace

std::string errno_str(int e) {
    return e != 0 ? std::strerror(e) : "unknown error";
}

void set_anonymous_temp_files(bool on) {
    anonymous_temp_files = on;
}

AtomicFile::AtomicFile(const char* op, const std::string& path)
    : op_(op), path_(path), dir_(directory_of(path)) {
    int fd = -1;
#ifdef O_TMPFILE
    if (anonymous_temp_files && proc_fd_links()) {
        fd = ::open(dir_.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    }
#endif
    if (fd >= 0) {
        anonymous_ = true;
    } else {
        fd = create_named();  // no O_TMPFILE here (or no /proc to link it through)
    }
    file_ = fdopen(fd, "wb");
    if (file_ == nullptr) {
        const int e = errno;
        ::close(fd);
        discard();
        throw IoError(
            fmt::format("{}: cannot open a temporary file for '{}' ({}); '{}' is "
                        "left unchanged",
                        op_, path_, errno_str(e), path_));
    }
}
AtomicFile::~AtomicFile() {
    if (file_ != nullptr) std::fclose(file_);
    if (!committed_) discard();
}

void AtomicFile::write(const void* p, std::size_t n) {
    errno = 0;
    if (n != 0 && std::fwrite(p, 1, n, file_) != n) write_failed();
}
void AtomicFile::commit() {
    errno = 0;
    if (std::fflush(file_) != 0 || fsync(fileno(file_)) != 0) write_failed();
    if (anonymous_) link_anonymous();
    std::FILE* f = file_;
    file_ = nullptr;
    if (std::fclose(f) != 0) write_failed();
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
        throw IoError(fmt::format("{}: cannot rename '{}' to '{}' ({}); '{}' is left unchanged",
                                  op_, tmp_, path_, errno_str(errno), path_));
    }
    committed_ = true;
    sync_directory();
}

// "<path>.tmp.XXXXXX": six random letters and digits, fresh in every process and thread.
std::string AtomicFile::unique_name() const {
    static constexpr char kChars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static thread_local std::mt19937_64 rng = [] {
        std::random_device rd;
        return std::mt19937_64(std::uint64_t(rd()) << 32 ^ rd());
    }();
    // NOTE: a forked child inherits the generator's state, so the pid is mixed in as well.
    std::uint64_t bits = rng() ^ (std::uint64_t(getpid()) * 0x9E3779B97F4A7C15ull);
    std::string name = path_ + ".tmp.";
    for (int i = 0; i < 6; ++i, bits /= 62)
        name.push_back(kChars[bits % 62]);
    return name;
}

int AtomicFile::create_named() {
    for (int attempt = 0; attempt < 100; ++attempt) {
        tmp_ = unique_name();
        const int fd = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) return fd;
        if (errno != EEXIST) break;
    }
    const int e = errno;
    const std::string tmp = tmp_;
    tmp_.clear();  // not ours: nothing to remove
    throw IoError(
        fmt::format("{}: cannot create the temporary file '{}' ({}); '{}' is left "
                    "unchanged",
                    op_, tmp, errno_str(e), path_));
}

// Gives the anonymous file a unique name beside `path`, to rename it from.
void AtomicFile::link_anonymous() {
    const std::string proc = fmt::format("/proc/self/fd/{}", fileno(file_));
    for (int attempt = 0; attempt < 100; ++attempt) {
        tmp_ = unique_name();
        if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, tmp_.c_str(), AT_SYMLINK_FOLLOW) == 0) {
            return;
        }
        if (errno != EEXIST) break;
    }
    const int e = errno;
    const std::string tmp = tmp_;
    tmp_.clear();
    throw IoError(
        fmt::format("{}: cannot link the temporary file as '{}' ({}); '{}' is left "
                    "unchanged",
                    op_, tmp, errno_str(e), path_));
}

void AtomicFile::discard() {
    if (!tmp_.empty()) std::remove(tmp_.c_str());
    tmp_.clear();
}

// The rename is durable once the directory is synced. File systems that cannot sync a
// directory (EINVAL) and directories we may write but not read (EACCES) are let be.
void AtomicFile::sync_directory() const {
    const int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int e = fd < 0 ? errno : 0;
    if (fd >= 0) {
        if (fsync(fd) != 0) e = errno;
        ::close(fd);
    }
    if (e != 0 && e != EINVAL && e != EACCES) {
        throw IoError(
            fmt::format("{}: '{}' was written, but syncing its directory '{}' "
                        "failed ({}); a power loss could still undo the save",
                        op_, path_, dir_, errno_str(e)));
    }
}

void AtomicFile::write_failed() const {
    throw IoError(
        fmt::format("{}: writing the temporary file for '{}' failed ({}); '{}' is "
                    "left unchanged",
                    op_, path_, errno_str(errno), path_));
}

}  // namespace xgrad::detail
