#pragma once

#include <cstdio>
#include <string>

namespace xgrad::detail {

/// strerror(e), or "unknown error" for e = 0 (an errno some C library call left unset).
std::string errno_str(int e);

/// For tests: whether saves may write an anonymous temporary file (O_TMPFILE, the default where
/// the file system has it); off, they take the named "<path>.tmp.XXXXXX" path that other file
/// systems take (Note [atomic save] in atomic_file.cpp).
void set_anonymous_temp_files(bool on);

/// The one writer of every file xgrad saves: a temporary file beside `path`, synced and renamed
/// over it by commit() (Note [atomic save] in atomic_file.cpp). Destroyed without commit() (an
/// exception on the way), it removes the temporary file and `path` keeps its old contents. Every
/// failure is an IoError beginning with `op` ("save_npz: ...") and naming `path`.
class AtomicFile {
public:
    AtomicFile(const char* op, const std::string& path);
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    ~AtomicFile();

    void write(const void* p, std::size_t n);
    void write(const std::string& s) { write(s.data(), s.size()); }

    /// Syncs the data, renames the temporary file over `path` and syncs the directory.
    void commit();

private:
    std::string unique_name() const;
    int create_named();
    void link_anonymous();
    void discard();
    void sync_directory() const;
    [[noreturn]] void write_failed() const;

    const char* op_;
    std::string path_, dir_;
    std::string tmp_;  // the temporary file's name; empty while it has none
    std::FILE* file_ = nullptr;
    bool anonymous_ = false;
    bool committed_ = false;
};

}  // namespace xgrad::detail
